#!/usr/bin/env bash
# The GPU bench, ready for the day a GPU is there (DESIGN: "A GPU bench ready for the day a GPU is there").
#
#   bash bench/gpu.sh pack [DIR]      pack the self-contained kit (default bench/out/gpu-kit, git-ignored; ≤ 64 MiB)
#                                     on a linux-x64 machine with npm ci done, node, xz and apt-get
#   bash DIR/run.sh [options]         on the NVIDIA machine: no Node.js, no network needed (see bench/gpuBench.ts for
#                                     the options; defaults: ResNet50, ResNet152, MobileNetV2 at 224², batch 32, 8 min)
#   bash bench/gpu.sh rehearse        pack, then run the kit here end to end on Mesa lavapipe (test/e2e/setup.sh's
#                                     software Vulkan) at small sizes, with no node on PATH and, where the kernel
#                                     allows it, no network (unshare -rn): one command that shows it will run
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command="${1:-}"
case "$command" in
  pack)
    node "$repo/bench/gpuKit.mjs" "${2:-$repo/bench/out/gpu-kit}"
    ;;
  rehearse)
    kit="$repo/bench/out/gpu-kit"
    # LESION_LAB_GPU_KIT_REUSE=1 runs the kit already packed there (packing takes a few minutes).
    if [ "${LESION_LAB_GPU_KIT_REUSE:-}" != 1 ] || [ ! -f "$kit/run.sh" ]; then node "$repo/bench/gpuKit.mjs" "$kit"; fi
    vulkan="${LESION_LAB_E2E_HOME:-$HOME/.cache/lesion-lab/e2e}/vulkan"
    if [ ! -f "$vulkan/lvp_icd.json" ]; then echo "no software Vulkan in $vulkan: run test/e2e/setup.sh first" >&2; exit 1; fi
    # A PATH whose `node` fails, ahead of the real one: the kit must use its own.
    nonode="$(mktemp -d)"
    trap 'rm -rf "$nonode"' EXIT
    printf '#!/bin/sh\necho "node is not installed (GPU kit rehearsal)" >&2\nexit 127\n' > "$nonode/node"
    chmod +x "$nonode/node"
    python="$(command -v /usr/bin/python3 || command -v python3 || true)"
    isolate=()
    if unshare -rn true 2>/dev/null; then isolate=(unshare -rn); echo "rehearsal: no network (unshare -rn)"; else echo "rehearsal: unshare -rn unavailable; the network stays up"; fi
    env PATH="$nonode:$PATH" VK_ICD_FILENAMES="$vulkan/lvp_icd.json" LD_LIBRARY_PATH="$vulkan/root/usr/lib/x86_64-linux-gnu" \
      MESA_SHADER_CACHE_DIR="$vulkan/shader-cache" LESION_LAB_GPU_KIT_HOME="$(mktemp -d)" \
      "${isolate[@]}" bash "$kit/run.sh" --size 32 --batch 2 --steps 1 --budget 1500 --python "${python:-python3}" \
      --demo-size 64 "${@:2}"
    ;;
  *)
    echo "usage: bash bench/gpu.sh pack [DIR] | rehearse [bench options]; then bash DIR/run.sh on the GPU machine" >&2
    exit 2
    ;;
esac
