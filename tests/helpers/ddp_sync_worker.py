"""Run under torchrun: train a small GAN with DDP and write this rank's parameters.

Usage: torchrun --nproc_per_node=2 ddp_sync_worker.py OUT_DIR STEP_KIND PRECISION [KEY=VALUE...]
Each rank writes OUT_DIR/rank{r}.safetensors (the parameters of G and D) and
OUT_DIR/rank{r}.json (the indices of the first batch it trained on, its first latent codes).
"""

import json
import sys
from pathlib import Path

import torch
from ddp_exit import leave
from safetensors.torch import save_file

from ganforge.config import resolve
from ganforge.data.dataset import Dataset
from ganforge.engine import distributed
from ganforge.engine.trainer import Trainer
from ganforge.run import build_from_config

out, step_kind, precision = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
extra = sys.argv[4:]
ctx = distributed.from_env("cpu")
cfg = resolve(
    "demo",
    [
        "model.arch=dcgan-tf",  # conv G with batch norm, conv D with dropout
        "model.g_width=4",
        "model.d_width=4",
        "model.dropout=0.3",
        "train.batch=16",
        f"train.step={step_kind}",
        f"train.precision={precision}",
        "train.device=cpu",
        "log.progress=false",
        *extra,
    ],
)
gen = torch.Generator().manual_seed(0)
data = Dataset(
    "rand", torch.randint(0, 256, (64, 1, 28, 28), generator=gen, dtype=torch.uint8), "image"
)
torch.manual_seed(cfg.train.seed)
G, D = build_from_config(cfg, (1, 28, 28), 0)
trainer = Trainer(G, D, data, cfg, run_dir=None, dist=ctx)
first = trainer.data.sampler.next_indices().tolist()
trainer.data.sampler.load_state_dict({"epoch": 0, "position": 0})
z = torch.randn(4, cfg.model.z_dim)
summary = trainer.fit(6)
tensors = {
    f"{name}.{k}": v.detach().contiguous()
    for name, net in (("G", G), ("D", D))
    for k, v in net.named_parameters()
}
save_file(tensors, str(out / f"rank{ctx.rank}.safetensors"))
(out / f"rank{ctx.rank}.json").write_text(
    json.dumps(
        {
            "first_batch": first,
            "z": z.tolist(),
            "summary": {k: v for k, v in summary.items() if isinstance(v, (int, float))},
        }
    )
)
leave(ctx)
