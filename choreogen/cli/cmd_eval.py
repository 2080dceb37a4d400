"""``choreogen eval``: the field's dance metrics for a generated set and for the ground truth."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_cmd(
        gen: Path = typer.Option(..., "--gen", help="Folder of generated motion files (.npz/.pkl/.npy/.bvh)."),
        gt: Path = typer.Option(..., "--gt", help="Folder of ground-truth motion files (the GT pool)."),
        music: Path = typer.Option(None, "--music", help="Folder of audio files named like the motions "
                                   "(for BAS); otherwise each motion's own music is used."),
        protocol: str = typer.Option("tang2018", "--protocol", "-p",
                                     help="aistpp-bailando | aistpp-fact | edge-pfc | finedance-lodge | tang2018"),
        metrics: str = typer.Option(None, "--metrics", help="Comma-separated subset of "
                                    "fid_k,fid_g,div_k,div_g,bas,pfc,pbc,fsr (default: the protocol's)."),
        json_out: Path = typer.Option(None, "--json", help="Also write the full result as JSON here."),
        split: str = typer.Option(None, "--split", help="Only GT files of this split of the fixed "
                                  "dataset split (e.g. 'val' with --protocol tang2018)."),
        clip_frames: int = typer.Option(None, "--clip-frames", help="Override the protocol's clip length "
                                        "(frames at its feature fps)."),
        origin: str = typer.Option(None, "--origin", help="Override: raw | zero_start | zero_start_root_relative."),
        bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap resamples for 95% CIs (0: none)."),
        seed: int = typer.Option(None, "--seed", help="Bootstrap seed (default: the protocol's)."),
        cache: Path = typer.Option(None, "--cache", help="GT cache folder (default ~/.cache/choreogen/eval "
                                   "or $CHOREOGEN_CACHE/eval)."),
        strict: bool = typer.Option(False, "--strict", help="Refuse ground-truth files with NaN frames "
                                    "(default: evaluate their longest valid part and say what was dropped)."),
    ) -> None:
        """Evaluate generated dances against ground truth: FID_k/g, Div_k/g, BAS, PFC/PBC/FSR.

        Prints a table for the generated set and for the ground truth itself, with bootstrap confidence intervals over samples; --json writes everything (keys fid_k, fid_g, div_k, div_g, bas, ... under "generated" and "ground_truth"). See docs/EVAL.md.
        """  # noqa: E501
        from ..errors import ConfigError
        from ..eval.protocols import get_protocol
        from ..eval.report import print_table, write_json
        from ..eval.runner import evaluate_folders

        overrides = {}
        if clip_frames is not None:
            overrides["clip_frames"] = clip_frames
        if origin is not None:
            overrides["origin"] = origin
        proto = get_protocol(protocol, **overrides)
        names = None
        if split is not None:
            from ..data.splitting import fixed_split

            dataset = "tang2018" if proto.name == "tang2018" else proto.name
            try:
                names = fixed_split(dataset)[split]
            except (KeyError, FileNotFoundError, ValueError):
                raise ConfigError(f"no fixed split '{split}' for protocol '{proto.name}'") from None
        mlist = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
        if bootstrap < 0:
            raise ConfigError(f"--bootstrap must be >= 0, got {bootstrap}")
        result = evaluate_folders(gen, gt, music, proto, mlist, bootstrap=bootstrap, cache_dir=cache,
                                  gt_names=names, seed=seed, strict=strict,
                                  log=lambda msg: typer.echo(f"warning: ground truth {msg}", err=True))
        print_table(result)
        if json_out is not None:
            write_json(result, json_out)
            typer.echo(f"wrote {json_out}")
