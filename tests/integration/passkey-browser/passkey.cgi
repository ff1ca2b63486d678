#!/bin/sh
# The CGI of passkey-browser.sh: PATH_INFO names the ceremony, the body (if
# any) goes to isim-passkey on stdin, its JSON comes back; a login's session
# token becomes a Secure, HttpOnly, SameSite=Strict cookie, which /session
# checks.
PASSKEY=${ISIM_BIN:?}/isim-passkey
body=$(mktemp) || exit 1
out=$(mktemp) || exit 1
trap 'rm -f "$body" "$out"' EXIT
head -c "${CONTENT_LENGTH:-0}" >"$body"

status() { # CODE: the status line for the command's exit code
	case $1 in
	0) echo "200 OK" ;;
	1) echo "403 Forbidden" ;;
	64 | 65) echo "400 Bad Request" ;;
	*) echo "500 Internal Server Error" ;;
	esac
}

cookie=""
case $PATH_INFO in
/register/options/*/*)
	rest=${PATH_INFO#/register/options/}
	"$PASSKEY" register-options --user "${rest%/*}" --attestation "${rest#*/}" \
		--user-verification required --resident-key required >"$out"
	;;
/register/verify) "$PASSKEY" register-verify <"$body" >"$out" ;;
/login/options/) "$PASSKEY" login-options --user-verification required >"$out" ;;
/login/options/*) "$PASSKEY" login-options --user "${PATH_INFO#/login/options/}" --user-verification required >"$out" ;;
/login/verify)
	"$PASSKEY" login-verify <"$body" >"$out"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		cookie="Set-Cookie: mn_session=$(jq -r .session "$out"); Path=/; Secure; HttpOnly; SameSite=Strict"
		jq -c 'del(.session)' "$out" >"$out.x" && mv "$out.x" "$out"
	fi
	(exit "$rc")
	;;
/session)
	tok=$(printf '%s\n' "${HTTP_COOKIE:-}" | tr ';' '\n' | sed -n 's/^ *mn_session=//p')
	jq -cn --arg t "$tok" '{session: $t}' | "$PASSKEY" session-check >"$out"
	;;
*)
	printf 'Status: 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"ok":false}\n'
	exit 0
	;;
esac
rc=$?
[ -s "$out" ] || echo '{"ok":false,"reason":"internal"}' >"$out"
printf 'Status: %s\r\nContent-Type: application/json\r\n' "$(status "$rc")"
[ -n "$cookie" ] && printf '%s\r\n' "$cookie"
printf '\r\n'
cat "$out"
