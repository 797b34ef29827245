#!/bin/bash
# Submits the extraction array (SHARDS tasks, CPUS cores each) and the probe, which starts once
# every extraction task succeeded. Settings pass through the environment (sbatch exports it):
#   DATA=/data/imagenette2-320 OUT=$PWD/features MODEL=... bash examples/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${SHARDS:-4}
extract=$(sbatch --parsable --array="0-$((shards - 1))" --cpus-per-task="${CPUS:-4}" "$here/extract.sbatch")
extract=${extract%%;*}
train=$(sbatch --parsable --cpus-per-task="${CPUS:-4}" --dependency="afterok:$extract" "$here/train.sbatch")
train=${train%%;*}
echo "extract job $extract (array of $shards), train job $train (after every extract task succeeded)"
