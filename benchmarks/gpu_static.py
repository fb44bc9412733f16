"""Static GPU evidence, gathered on CPU: registers, spills, shared memory, occupancy.

Every CUDA kernel (csrc/**/*.cu and the exercises' .cu files) is compiled with
`nvcc -Xptxas -v` for sm_80 and sm_90, and every Triton kernel in every shipped
launch config is compiled ahead of time (`triton.compile(ASTSource(...),
target=GPUTarget("cuda", cap, 32))`, no GPU needed) and its PTX run through
`ptxas -v`. Theoretical occupancy follows CUDA's occupancy calculator from
registers per thread, shared memory per block and threads per block.

Writes benchmarks/results/gpu-static-<date>.json and .md, with provenance.

Usage: python benchmarks/gpu_static.py [--out DIR] [--no-triton | --no-cuda] [--match PATH]
       [--workers N] [--render JSON]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))
from benchmarks import provenance  # noqa: E402

# Per-SM limits (CUDA C Programming Guide, "compute capabilities" table).
LIMITS = {80: {"threads": 2048, "warps": 64, "blocks": 32, "regs": 65536,
               "smem": 164 * 1024, "smem_block_max": 163 * 1024},
          90: {"threads": 2048, "warps": 64, "blocks": 32, "regs": 65536,
               "smem": 228 * 1024, "smem_block_max": 227 * 1024}}
REG_UNIT, SMEM_UNIT, SMEM_RESERVED = 256, 128, 1024  # per-warp regs, bytes, bytes per block
CUDA_THREADS = 256  # every .cu launch uses 256-thread blocks (kThreads / `threads = 256`)
CUDA_FLAGS = ["-O3", "--use_fast_math", "-std=c++17", "-lineinfo"]  # as CMakeLists.txt


def occupancy(cap: int, regs: int, smem: int, threads: int) -> dict:
    """Resident blocks and warps per SM and the limiting resource for one kernel."""
    lim = LIMITS[cap]
    warps = math.ceil(threads / 32)
    regs_per_warp = math.ceil(regs * 32 / REG_UNIT) * REG_UNIT
    by = {"threads": lim["warps"] // warps, "blocks": lim["blocks"],
          "registers": (lim["regs"] // regs_per_warp) // warps if regs else lim["blocks"],
          "shared_memory": lim["smem"] // (math.ceil(smem / SMEM_UNIT) * SMEM_UNIT
                                           + SMEM_RESERVED)}
    if smem > lim["smem_block_max"]:
        by["shared_memory"] = 0
    blocks = min(by.values())
    return {"blocks_per_sm": blocks, "warps_per_sm": blocks * warps,
            "occupancy": round(blocks * warps / lim["warps"], 3),
            "limited_by": min(by, key=by.get)}


_ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(sm_\w+)'")
_SPILL = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
_USED = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")


def parse_ptxas(text: str) -> list[dict]:
    """One row per kernel from `ptxas -v` output: registers, stack, spills, static smem."""
    rows: list[dict] = []
    for line in text.splitlines():
        if m := _ENTRY.search(line):
            rows.append({"symbol": m.group(1), "arch": m.group(2), "registers": 0,
                         "stack_bytes": 0, "spill_stores": 0, "spill_loads": 0, "smem": 0})
        elif rows and (m := _SPILL.search(line)):
            rows[-1].update(stack_bytes=int(m.group(1)), spill_stores=int(m.group(2)),
                            spill_loads=int(m.group(3)))
        elif rows and (m := _USED.search(line)):
            rows[-1].update(registers=int(m.group(1)), smem=int(m.group(2) or 0))
    return rows


def _demangle(symbols: list[str]) -> list[str]:
    res = subprocess.run(["c++filt"], input="\n".join(symbols), capture_output=True, text=True)
    names = res.stdout.splitlines()
    return names if len(names) == len(symbols) else symbols


def cuda_sources() -> list[Path]:
    return sorted([*ROOT.glob("csrc/**/*.cu"), *ROOT.glob("exercises/*/**/*.cu")])


def cuda_rows(cap: int) -> list[dict]:
    """ptxas -v for every .cu file at sm_<cap>; static smem only (no .cu uses dynamic)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for src in cuda_sources():
            # -cubin: device code only, no host compile (ptxas output is the same)
            cmd = ["nvcc", "-cubin", *CUDA_FLAGS, f"-arch=sm_{cap}", "-Xptxas", "-v",
                   "-I", str(ROOT / "csrc"), "-I", str(src.parent.parent / "support"),
                   str(src), "-o", str(Path(tmp) / "k.cubin")]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode:
                rows.append({"file": str(src.relative_to(ROOT)), "arch": f"sm_{cap}",
                             "error": res.stderr[-500:]})
                continue
            found = parse_ptxas(res.stderr)
            for row, name in zip(found, _demangle([r["symbol"] for r in found]), strict=True):
                row.update(file=str(src.relative_to(ROOT)), kernel=name, kind="cuda",
                           config=f"{CUDA_THREADS} threads", threads=CUDA_THREADS)
                row.update(occupancy(cap, row["registers"], row["smem"], CUDA_THREADS))
                rows.append(row)
    return rows


# ----------------------------------------------------------------------------- Triton

_FP32_PTRS = ("lse", "delta", "loss", "out_s", "saved", "c_prev", "gb")
_INT_PTRS = {"t_ptr": "*i64", "out_i_ptr": "*i64"}
_FLOAT_ARGS = ("scale", "eps")


def _signature(fn, dtype: str, constexprs: dict) -> dict:
    """Triton signature from argument names: *_ptr tensors of `dtype` (fp32 statistics)."""
    sig = {}
    for name in fn.arg_names:
        if name in constexprs:
            sig[name] = "constexpr"
        elif name in _INT_PTRS:
            sig[name] = _INT_PTRS[name]
        elif name.endswith("_ptr"):
            sig[name] = "*fp32" if name.startswith(_FP32_PTRS) else f"*{dtype}"
        else:
            sig[name] = "fp32" if name.endswith(_FLOAT_ARGS) else "i32"
    return sig


# (kind of the config sets, signature dtype, tl.dot input precision)
KINDS = (("16bit", "bf16", "tf32"), ("tf32", "fp32", "tf32"), ("ieee", "fp32", "ieee"))


def _launch_opts(cfg) -> dict:
    """A triton.Config (or a launch dict) as one flat dict of constexprs and options."""
    if isinstance(cfg, dict):
        return dict(cfg)
    return {**cfg.kwargs, "num_warps": cfg.num_warps, "num_stages": cfg.num_stages}


def _attention_specs(arch: str):
    """Every config of the attention autotune sets for `arch`, causal and not, at the
    largest head dim of each head-dim class."""
    from hubkit.kernels.attention import configs as c
    from hubkit.kernels.attention import v1_flash as m

    sets = ((m._fwd_kernel, c.FWD), (m._bwd_dkdv_kernel, c.DKDV), (m._bwd_dq_kernel, c.DQ))
    for kind, dtype, prec in KINDS:
        for d in c.HEAD_DIM_CLASSES:
            for fn, cs in sets:
                for cfg in cs.per_arch[(arch, kind, d)]:
                    for causal in (False, True):
                        yield fn, dtype, {"CAUSAL": causal, "D": d, "PRECISION": prec,
                                          **_launch_opts(cfg)}
            yield m._bwd_preprocess, dtype, {"D": d, **c.PREPROCESS}


def _lora_specs(arch: str):
    """Every config of the LoRA autotune sets for `arch` at each rank class's largest
    BLOCK_R, and the fixed config of the backward's skinny matmuls."""
    from hubkit.kernels.lora import configs as c
    from hubkit.kernels.lora import v1_fused as m

    for kind, dtype, prec in KINDS:
        for r in c.RANK_CLASSES:
            rank = {"BLOCK_R": r, "GROUP_M": 8, "PRECISION": prec}
            for cfg in c.FORWARD.per_arch[(arch, kind, r)]:
                yield m._forward_kernel, dtype, {**rank, "HAS_BIAS": True, **_launch_opts(cfg)}
            for cfg in c.GRAD_X.per_arch[(arch, kind, r)]:
                yield m._grad_x_kernel, dtype, {**rank, **_launch_opts(cfg)}
        yield m._matmul_kernel, dtype, {"PRECISION": prec, **c.matmul(arch, kind)}


def _small_specs(arch: str):
    """bias_gelu, cross-entropy, the LSTM cell (every batch block) and search top-k."""
    from hubkit.kernels.bias_gelu import v1_elementwise as bg
    from hubkit.kernels.linear_cross_entropy import v1_online_softmax as lce
    from hubkit.kernels.lstm import v1_fused_cell as lstm
    from hubkit.kernels.search import v1_block_topk as search

    for kind, dtype, prec in KINDS:
        if kind != "ieee":  # no dot: one build per storage dtype
            yield bg._forward_kernel, dtype, {"BLOCK": bg.BLOCK}
            yield bg._backward_kernel, dtype, {"BLOCK": bg.BLOCK}
            for grad in (False, True):
                yield (lce._cross_entropy_rows_kernel, dtype,
                       {**lce.gpu_config(50257), "WRITE_GRAD": grad})
        for block_b in lstm.BATCH_BLOCKS:
            yield lstm._cell_kernel, dtype, {**lstm.gpu_config(kind, block_b), "PRECISION": prec}
    yield search._block_topk_kernel, "fp32", {"K": 10, "COSINE": True, "BLOCK_Q": 16,
                                               "BLOCK_N": 64, "BLOCK_D": 32}


def triton_specs(cap: int):
    """(kernel, dtype, constexprs and launch options) for every shipped config at sm_<cap>."""
    for gen in (_attention_specs, _lora_specs, _small_specs):
        yield from gen(f"sm_{cap}")


# The launch compiled, as the benchmarks run it (Triton specializes on these at launch):
# pointers 16-byte aligned (every torch allocation is), integer sizes and strides
# divisible by 16, except those listed here as odd, and W's unit column stride as 1.
_ODD_INTS = ("R", "V", "ignore_index", "sam", "sak", "sbk", "sbn")
_UNIT_STRIDES = {"swk": 1}


def _attrs(fn, sig: dict) -> dict:
    """tt.divisibility 16 for pointers and for the integers not in _ODD_INTS."""
    return {(i,): [["tt.divisibility", 16]] for i, name in enumerate(fn.arg_names)
            if sig[name].startswith("*") or (sig[name] == "i32" and name not in _ODD_INTS)}


def _ptxas(cap: int) -> str:
    from triton.backends.nvidia import compiler

    return compiler.get_ptxas(cap).path  # the ptxas Triton itself uses


def triton_row(fn, dtype: str, cfg: dict, cap: int, ptxas: str) -> dict:
    """Compile one kernel config for sm_<cap> without a GPU and read ptxas -v on its PTX."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    opts = {k: cfg[k] for k in ("num_warps", "num_stages") if k in cfg}
    consts = {k: v for k, v in cfg.items() if k not in opts}
    consts.update({k: v for k, v in _UNIT_STRIDES.items() if k in fn.arg_names})
    row = {"file": str(Path(fn.fn.__code__.co_filename).relative_to(ROOT)) if
           str(fn.fn.__code__.co_filename).startswith(str(ROOT)) else fn.fn.__code__.co_filename,
           "kernel": fn.fn.__name__, "kind": "triton", "arch": f"sm_{cap}", "dtype": dtype,
           "config": json.dumps({**consts, **opts}, sort_keys=True)}
    try:
        sig = _signature(fn, dtype, consts)
        src = ASTSource(fn, signature=sig, constexprs=consts, attrs=_attrs(fn, sig))
        kernel = triton.compile(src, target=GPUTarget("cuda", cap, 32), options=opts)
    except Exception as err:  # noqa: BLE001 - a config that does not compile is a finding
        return {**row, "error": f"{type(err).__name__}: {str(err)[:300]}"}
    meta = kernel.metadata
    arch = f"sm_{cap}a" if cap >= 90 else f"sm_{cap}"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "k.ptx").write_text(kernel.asm["ptx"])
        res = subprocess.run([ptxas, "-v", f"-arch={arch}", str(Path(tmp) / "k.ptx"), "-o",
                              str(Path(tmp) / "k.cubin")], capture_output=True, text=True)
    found = (parse_ptxas(res.stderr) or [{"error": res.stderr[-300:]}])[0]
    threads = meta.num_warps * 32
    row.update(found, threads=threads, smem=found.get("smem", 0) + meta.shared,
               num_stages=meta.num_stages)
    row.pop("symbol", None)
    row["arch"] = f"sm_{cap}"
    return {**row, **occupancy(cap, row.get("registers", 0), row["smem"], threads)}


def _triton_job(job: tuple) -> dict:
    """Compile one spec, named by (cap, kernel module, kernel name, dtype, config)."""
    import importlib

    cap, module, name, dtype, cfg = job
    os.environ.pop("TRITON_INTERPRET", None)
    fn = getattr(importlib.import_module(module), name)
    row = triton_row(fn, dtype, cfg, cap, _ptxas(cap))
    print(f"{row['kernel']} {dtype} sm_{cap}: {row.get('registers', row.get('error'))} regs, "
          f"{row.get('spill_stores', '?')} B spilled", flush=True)
    return row


def triton_rows(caps: list[int], workers: int, match: str = "") -> list[dict]:
    """Every Triton spec for every arch (whose kernel file contains `match`), compiled in
    `workers` processes (compiles are slow)."""
    import multiprocessing as mp

    os.environ.pop("TRITON_INTERPRET", None)  # compile real kernels, not interpreted ones
    # subtle: jobs name the kernel and carry the config, not an index into the spec list,
    # so a worker compiles exactly what was enumerated here.
    jobs = [(cap, fn.fn.__module__, fn.fn.__name__, dtype, cfg) for cap in caps
            for fn, dtype, cfg in triton_specs(cap) if match in fn.fn.__code__.co_filename]
    with mp.get_context("spawn").Pool(workers) as pool:
        return pool.map(_triton_job, jobs, chunksize=1)


# ----------------------------------------------------------------------------- report

COLUMNS = ("kind", "file", "kernel", "dtype", "config", "arch", "registers", "spill_stores",
           "spill_loads", "stack_bytes", "smem", "threads", "blocks_per_sm", "occupancy",
           "limited_by")


def markdown(rows: list[dict], notes: list[str]) -> str:
    """The table, the spill list and the notes as Markdown."""
    out = ["# Static GPU resources: sm_80 and sm_90, compiled on CPU", "",
           "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [str(r.get(c, "")).replace("|", "\\|") for c in COLUMNS]
        if "error" in r:
            cells[6] = "error: " + r["error"][:120].replace("|", "/").replace("\n", " ")
        out.append("| " + " | ".join(cells) + " |")
    spills = [r for r in rows if r.get("spill_stores") or r.get("spill_loads")]
    out += ["", f"## Spills: {len(spills)} of {len(rows)} kernel builds", ""]
    out += [f"- {r['kernel']} {r.get('dtype', '')} {r['config']} {r['arch']}: "
            f"{r['spill_stores']} B stored, {r['spill_loads']} B loaded. "
            f"Why: {r.get('spill_reason', '')}" for r in spills]
    return "\n".join(out + ["", "## Notes", "", *[f"- {n}" for n in notes], ""])


# Why a build spills, by kernel name (each spill found must be explained here). The
# shipped configs have none; a kernel listed here names what to look at if one appears.
_TILE = ("fp32 accumulator tiles held in registers exceed 255 registers per thread at this "
         "tile size and warp count; ")
SPILL_REASONS: dict[str, str] = {
    "_fwd_kernel": _TILE + "acc (BLOCK_M, D) plus the S/P tile (BLOCK_M, BLOCK_N).",
    "_bwd_dkdv_kernel": _TILE + "dk and dv (BLOCK_N, D) live across the whole query sweep.",
    "_bwd_dq_kernel": _TILE + "dq (BLOCK_M, D) plus P, dP and the K/V tiles.",
    "_forward_kernel": _TILE + "acc (BLOCK_M, BLOCK_N) plus the rank tile x A^T (BLOCK_M, "
    "BLOCK_R).",
    "_grad_x_kernel": _TILE + "acc (BLOCK_M, BLOCK_K) plus g B (BLOCK_M, BLOCK_R).",
    "_matmul_kernel": _TILE + "the (BLOCK_M, BLOCK_N) accumulator.",
    "_cell_kernel": _TILE + "four gate accumulators (BLOCK_B, BLOCK_H) at once.",
}
_FMA_RANK = ("exact float32 (ieee) dots are FMA loops in which each thread keeps its rows and "
             "columns of both operands for the whole reduction; the rank epilogue dot reduces "
             "over BLOCK_R = 128, so its operands alone need >= 256 registers per thread at "
             "any tile size. Shipped as the least-spilling config; TF32 (allowed by torch's "
             "allow_tf32) or r <= 32 builds without spills (kernels/lora/configs.py).")
SPILL_REASONS.update({"_forward_kernel ieee": _FMA_RANK, "_grad_x_kernel ieee": _FMA_RANK})


def spill_reason(row: dict) -> str:
    """Why a build spills: by kernel and dot precision, else by kernel."""
    precision = json.loads(row["config"]).get("PRECISION", "")
    return (SPILL_REASONS.get(f"{row['kernel']} {precision}")
            or SPILL_REASONS.get(row["kernel"], "not yet explained"))

NOTES = [
    "Triton kernels are compiled ahead of time without a GPU: "
    "`triton.compile(ASTSource(fn, signature, constexprs, attrs), target=GPUTarget('cuda', "
    "cap, 32))`; registers and spills come from `ptxas -v` (Triton's own ptxas) on the PTX "
    "it generated, at sm_80 and sm_90a (the arch Triton itself picks for Hopper).",
    "Triton configs are exactly the shipped ones: every autotune config of each arch's list "
    "(kernels/attention/configs.py, kernels/lora/configs.py; attention at D = 64 and 128, "
    "the largest head dim of each list, causal and not; LoRA at BLOCK_R = 32 and 128, the "
    "largest rank of each list) and the fixed configs (LoRA's skinny matmuls, the LSTM cell "
    "at every batch block, cross-entropy, bias_gelu, search). Kinds: bf16 (stands for every "
    "16-bit input), fp32 with TF32 dots, fp32 with exact IEEE dots (PRECISION in the config).",
    "The launch modelled is the benchmarks' hot path, which Triton specializes on: pointers "
    "16-byte aligned (every torch allocation is), integer sizes and strides divisible by 16 "
    f"except {', '.join(_ODD_INTS)}, and W's column stride 1 (contiguous W).",
    "CUDA kernels: `nvcc -cubin -arch=sm_XX -Xptxas -v` with the flags of CMakeLists.txt; "
    f"every .cu launch uses {CUDA_THREADS}-thread blocks. Exercise files include the known-"
    "wrong versions (exercises/*/wrong), which ship only to be rejected.",
    f"Occupancy: CUDA occupancy-calculator rules with per-SM limits {LIMITS}; registers "
    f"allocated in {REG_UNIT}-register warp units, shared memory in {SMEM_UNIT}-byte units "
    f"plus {SMEM_RESERVED} B reserved per block.",
    "CUDA smem is static (__shared__); Triton smem is its dynamic allocation "
    "(metadata.shared). Triton pointer types follow argument names (bf16/fp32 data, fp32 "
    "statistics, i64 indices); scalar sizes are i32.",
    "Why the 2026-12-02 table showed fp32 builds at 32 registers with 7-37 KB of stack: "
    "exact float32 (ieee) tl.dot lowers to FMA loops, not tensor-core mma, and each thread "
    "keeps its rows and columns of both operands for the whole reduction; the attention "
    "dK/dV kernel also transposed P and dS in registers and kept K and V as right-hand "
    "operands. When demand is far above 255 registers, ptxas -O3 gives up on registers and "
    "places nearly everything in local memory (32 registers; -O1 would keep 255). The "
    "fixes: dK/dV computed in transposed form (K, V as left operands, Q^T and dO^T loaded "
    "transposed), small tiles for ieee configs, TF32 dots where torch allows TF32, and "
    "aligned, divisible launches modelled (the old table compiled without alignment hints, "
    "so loads were scalar and staged through registers).",
]


def write(report: dict, out: Path) -> list[Path]:
    """The JSON and the Markdown table (with spill reasons) for one report."""
    out.mkdir(parents=True, exist_ok=True)
    for row in report["rows"]:
        if row.get("spill_stores") or row.get("spill_loads"):
            row["spill_reason"] = spill_reason(row)
    report["notes"] = NOTES
    js, md = out / f"gpu-static-{report['date']}.json", out / f"gpu-static-{report['date']}.md"
    js.write_text(json.dumps(report, indent=1) + "\n")
    md.write_text(markdown(report["rows"], NOTES))
    provenance.stamp(md, report["provenance"])
    return [js, md]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--no-triton", action="store_true", help="CUDA kernels only")
    p.add_argument("--no-cuda", action="store_true", help="Triton kernels only")
    p.add_argument("--match", default="", help="Triton kernel files containing this only, "
                   "e.g. kernels/attention")
    p.add_argument("--workers", type=int, default=4, help="processes compiling Triton kernels")
    p.add_argument("--render", type=Path, help="re-render this JSON's table and notes only")
    args = p.parse_args(argv)
    if args.render:  # keeps the compile run's provenance
        print("wrote", *write(json.loads(args.render.read_text()), args.render.parent))
        return 0
    start = provenance.Snapshot.take(per_process=True)
    rows = [] if args.no_cuda else [row for cap in (80, 90) for row in cuda_rows(cap)]
    if not args.no_triton:
        rows += triton_rows([80, 90], args.workers, args.match)
    report = {"date": dt.date.today().isoformat(), "rows": rows, "versions": _versions(),
              "provenance": provenance.record(start)}
    for path in write(report, args.out):
        print(f"wrote {path}")
    return 0


def _versions() -> dict:
    res = subprocess.run(["nvcc", "--version"], capture_output=True, text=True)
    out = {"nvcc": res.stdout.strip().splitlines()[-1] if res.stdout else None}
    try:
        import triton

        out["triton"] = triton.__version__
    except ImportError:
        out["triton"] = None
    return out


if __name__ == "__main__":
    raise SystemExit(main())
