#!/usr/bin/env bash
# The main job end to end on the built-in synthetic demo data, through the same CLI the extension's
# backend is: demo-data → prepare → augment → train → evaluate → predict. Usage: scripts/demo.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-demo-workspace}")
LL="node dist/backend/cli.js"
[ -f dist/backend/cli.js ] || npm run build
rm -rf "$OUT/runs/demo"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/6 demo-data: a synthetic dataset in the Kaggle HAM10000 layout"
$LL demo-data --out "$OUT/data" --per-class 50 --size 600 --seed 1
step "2/6 prepare: validate every image, split by lesion (no lesion in both train and val)"
$LL prepare --data "$OUT/data" --out "$OUT/prepared"
step "3/6 augment: Keras ImageDataGenerator-style images for the training split, written to disk (to look at)"
$LL augment --prepared "$OUT/prepared" --target 60 --skip nv
step "4/6 train: the from-scratch recipe (MobileNetV2-0.35, 64 px, every layer, Adam 1e-3 with 2 warm-up epochs) on the fastest CPU engine; online augmentation: the same transforms drawn afresh every epoch, not the fixed copies of step 3"
$LL train --prepared "$OUT/prepared" --run "$OUT/runs/demo" --model mobilenetv2 --alpha 0.35 --weights none \
  --size 64 --phase finetune --epochs 15 --batch 16 --augment online
step "5/6 evaluate: balanced accuracy, per-class metrics, confusion matrix → evaluation.json, model-card.md"
$LL evaluate --run "$OUT/runs/demo"
step "6/6 predict: one validation image, with test-time augmentation and a Grad-CAM overlay"
IMAGE=$(find "$OUT/prepared/val/mel" -name '*.jpg' | sort | head -1)
$LL predict --run "$OUT/runs/demo" --tta --gradcam "$OUT/gradcam" "$IMAGE"
printf '\nDone. Open %s in VS Code and run "Lesion Lab: Open Run Folder…" on runs/demo to see its dashboard.\n' "$OUT"
