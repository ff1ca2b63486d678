# Sourced by infrasim's guest scripts: read this image's feature_config from
# the manifest installed at build time.
#   isim_config FEATURE KEY   prints the value (arrays and objects as JSON)
# shellcheck shell=sh

ISIM_MANIFEST=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}

isim_config() {
	jq -er --arg f "$1" --arg k "$2" \
		'.feature_config[$f][$k] | if type == "string" or type == "number" or type == "boolean" then tostring else tojson end' \
		"$ISIM_MANIFEST"
}
