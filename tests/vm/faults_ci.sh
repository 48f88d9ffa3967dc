#!/bin/bash
# The faults group, short enough for CI: 5 rounds of each kind (see
# tests/vm/faults.sh; `make faults` runs 50).
export TTYRFC_FAULTS_ROUNDS=${TTYRFC_FAULTS_ROUNDS:-5}
exec "$(dirname "$0")/faults.sh" "$@"
