/* SPDX-License-Identifier: MIT */
#include "common/cli.h"
#include "passkey.h"

static const struct isim_cmd cmds[] = {
	{ "register-options", pk_register_options_main, "issue a registration challenge: creation options as JSON",
	  pk_register_options_usage },
	{ "register-verify", pk_register_verify_main, "verify a registration response and store the credential",
	  pk_register_verify_usage },
	{ "login-options", pk_login_options_main, "issue a login challenge: request options as JSON",
	  pk_login_options_usage },
	{ "login-verify", pk_login_verify_main, "verify an assertion, store the counter, open a session",
	  pk_login_verify_usage },
	{ "session-check", pk_session_check_main, "whether a session token (stdin) is valid", pk_session_check_usage },
	{ "session-revoke", pk_session_revoke_main, "end a session, or every session of a user",
	  pk_session_revoke_usage },
	{ "credentials", pk_credentials_main, "the registered credentials, as JSON", pk_credentials_usage },
	{ "check-registration", pk_check_registration_main,
	  "verify one registration response against expectations, touching no state", pk_check_registration_usage },
	{ "check-assertion", pk_check_assertion_main,
	  "verify one assertion against a stored public key and counter, touching no state", pk_check_assertion_usage },
};

static const struct isim_tool tool = {
	.prog = "isim-passkey",
	.cmds = cmds,
	.ncmds = sizeof(cmds) / sizeof(cmds[0]),
	.epilog = "State: $ISIM_STATE_DIR/" PK_DB_NAME " (default " PK_STATE_DIR_DEFAULT
		  "). Exit status: see isim-passkey(1).",
};

int isim_passkey_main(int argc, char *argv[])
{
	return isim_tool_main(&tool, argc, argv);
}
