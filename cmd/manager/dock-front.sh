#!/bin/sh
':' //; [ "$1" = compose ] && [ -n "$NODE_EXTRA_CA_CERTS" ] && exec env -u NODE_EXTRA_CA_CERTS KEEL_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS" node -- "$0" "$@"; exec node -- "$0" "$@"
