#!/usr/bin/env bash
# One-call GPU campaign for the latent generator (issue #12): data -> autoencoder -> latent diffusion -> numbers.
# Prepared and tested on the CPU with SMOKE=1 (4 Tang2018 sequences, a few steps each; ~3 min). On a lent GPU machine:
#   bash benchmarks/gpu_latent_campaign.sh            # writes everything under ${OUT:-out/gpu_campaign}
# AE_STEPS / GEN_STEPS / BATCH override the sizes; the checkpoints, logs and numbers land in $OUT.
set -euo pipefail
OUT=${OUT:-out/gpu_campaign}
ACC=${ACC:-gpu}
SMOKE=${SMOKE:-0}
AE_STEPS=${AE_STEPS:-20000}
GEN_STEPS=${GEN_STEPS:-200000}
BATCH=${BATCH:-256}
if [ "$SMOKE" = 1 ]; then ACC=cpu; AE_STEPS=4; GEN_STEPS=4; BATCH=8; fi
PY=${PY:-python}
DATA=${DATA:-../shared/data/tang2018}
PREP=${PREP:-data_prepared}
mkdir -p "$OUT"
if [ "$SMOKE" = 1 ]; then  # 3 train + 1 val sequence: every stage runs in a few minutes on a CPU
  SUB="$OUT/smoke_data"; mkdir -p "$SUB"; PREP="$OUT/smoke_prepared"
  for n in DANCE_C_2 DANCE_R_3 DANCE_W_1 DANCE_W_10; do ln -sf "$(realpath "$DATA")/$n.npz" "$(realpath "$DATA")/$n.mp3" "$SUB/"; done
  DATA="$SUB"
fi
mkdir -p "$PREP"
[ -f "$PREP/tang2018_fast35/manifest.json" ] || \
  $PY -m choreogen.cli data prepare "$DATA" --format tang2018 --features fast35 --out "$PREP/tang2018_fast35"
[ -f "$PREP/tang2018_tempo_rhythm/manifest.json" ] || \
  $PY -m choreogen.cli data tempo "$PREP/tang2018_fast35" --out "$PREP/tang2018_tempo_rhythm" --features fast35+rhythm
$PY - "$OUT" "$AE_STEPS" "$GEN_STEPS" "$BATCH" <<'PYEOF'
import json, sys
out, ae_steps, gen_steps, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ae = json.load(open("benchmarks/configs/latent_ae.json"))
ae["train"].update(max_steps=ae_steps, batch_size=batch, ckpt_every=max(2, ae_steps // 10), val_every=max(2, ae_steps // 10))
gen = json.load(open("benchmarks/configs/latent_campaign.json"))
gen["model"].update(d_model=384, n_layers=8, n_heads=8) if ae_steps > 100 else None
gen["train"].update(max_steps=gen_steps, batch_size=batch, ckpt_every=max(2, gen_steps // 20), val_every=max(2, gen_steps // 20),
                    precision="bf16-mixed" if ae_steps > 100 else "32-true")
json.dump(ae, open(f"{out}/ae_config.json", "w"), indent=1)
json.dump(gen, open(f"{out}/gen_config.json", "w"), indent=1)
PYEOF
$PY -m choreogen.cli train-ae "$PREP/tang2018_tempo_rhythm" --out "$OUT/ae" --config "$OUT/ae_config.json" \
    --accelerator "$ACC" 2>&1 | tail -5
$PY -m choreogen.cli train "$PREP/tang2018_tempo_rhythm" --out "$OUT/gen" --ae "$OUT/ae/ae.safetensors" \
    --config "$OUT/gen_config.json" --accelerator "$ACC" 2>&1 | tail -5
$PY benchmarks/latent_ae_eval.py --model "$OUT/gen/model.safetensors" --data "$PREP/tang2018_fast35" --json "$OUT/ae_eval.json" | tail -3
if [ "$SMOKE" != 1 ]; then
  $PY benchmarks/validate_generator.py --model "$OUT/gen/model.safetensors" --json "$OUT/validation.json" | tail -5
  $PY benchmarks/tempo_follow.py --model "$OUT/gen/model.safetensors" --json "$OUT/tempo_follow.json" | tail -5
fi
rm -f "$OUT"/ae/*.ckpt "$OUT"/gen/step*.ckpt
echo "campaign done: $OUT"
