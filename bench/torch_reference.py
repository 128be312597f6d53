#!/usr/bin/env python3
"""PyTorch yardstick for pix2scene's speed figures: the same renderer and the same training
iteration, written the way a PyTorch user would write them today (batched tensor ops, autograd,
double backward for the gradient penalty).

    python3 bench/torch_reference.py render --size 128 --batch 6 --threads 1 --json
    python3 bench/torch_reference.py train --config configs/cpu-64.toml --threads 2 --json
    python3 bench/torch_reference.py check [--bin PATH]
    python3 bench/torch_reference.py shade --depth D.npy [--params P.json] --out IMAGE.npy

`render` times the surfel renderer at `pix2scene bench render`'s settings (depth maps of the
same formula, the three lights and shading constants of `pix2scene shade`'s defaults): forward
alone, and forward + backward of `image.sum()` to the depth. `train` times full training
iterations of a preset exactly as `pix2scene bench train --config FILE` does: the preset's
networks, batch, critic steps and objective (gradient penalty, image pyramid, planarity prior),
on fixed random data (images and cameras uniform in [0, 1]), after one warm-up iteration.
`check` renders depth maps with this renderer and with `pix2scene shade` and compares them (and
with the golden image committed for crates/render's tests), and compares the networks'
parameter counts with the hand counts of crates/model's tests. `shade` is `pix2scene shade` in
PyTorch (same parameter file, `.npy` output), for golden files.

With --json the last line printed is one JSON object whose keys match pix2scene's own bench
output where they mean the same (`fwd_ms_per_image`, `fwd_bwd_ms_per_image`, `s_per_iter`,
`iters_per_s`, `critic_step_s`, `generator_step_s`), plus `peak_rss_mib`. Needs torch and numpy
(bench/requirements.txt).
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F



@dataclass(frozen=True)
class Shading:
    """Camera and paper Eq. 1 constants; the defaults are `pix2scene shade`'s without a
    --params file (crates/render/src/params.rs), which `pix2scene bench render` and `bench
    train` use too."""
    fov_y_deg: float = 26.0
    albedo: tuple = (0.6, 0.6, 0.6)
    ambient: tuple = (0.1, 0.1, 0.1)
    k_l: float = 0.5
    k_q: float = 0.5


# The default camera-frame point lights (position, RGB colour), as `pix2scene shade`'s.
LIGHTS = (
    ((0.3, 0.6, 0.2), (0.8, 0.8, 0.8)),
    ((-0.5, 0.4, 0.1), (0.8, 0.1, 0.1)),
    ((0.4, -0.2, 0.3), (0.2, 0.8, 0.2)),
)
# Paper Eq. 3 as the authors fit it: neighbour differences normalized (+1e-10), 2x2 solve with
# n_z = 1 (+1e-12 on the determinant).
NEIGHBOUR_EPS, DET_EPS = 1e-10, 1e-12
NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
LEAKY_SLOPE = 0.2


def length(v):
    """Euclidean length along dim 1 (keepdim). `Tensor.norm(dim=1)` on `[B, 3, H, W]` takes a
    slow reduction path on CPU (about 70x slower at 128², torch 2.15), so it is spelled out."""
    return v.square().sum(1, keepdim=True).sqrt()
MIN_DEPTH = 0.2  # the decoder's depth is MIN_DEPTH + softplus(h)
OUTPUT_INIT_SCALE = 0.01  # the decoder's last layer starts 100x smaller (a flat start)


# ---------------------------------------------------------------------------------------------
# The surfel renderer: depth -> points -> normals (Eq. 3) -> shading (Eq. 1)


def ray_directions(size, fov_y_deg):
    """Unit ray directions through pixel centres, camera frame (+x right, +y up, looking
    along -z): `[3, size, size]`."""
    t = math.tan(math.radians(fov_y_deg) / 2)
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    x = (centres * t)[None, :].expand(size, size)
    y = (-centres * t)[:, None].expand(size, size)
    d = torch.stack([x, y, -torch.ones(size, size)])
    return d / d.square().sum(0, keepdim=True).sqrt()


def plane_fit_normals(points):
    """Unit normals facing the camera (n_z > 0) from the 8-neighbour constrained plane fit of
    paper Eq. 3, reflect padding at the border. `points`: `[B, 3, H, W]` camera frame."""
    _, _, h, w = points.shape
    padded = F.pad(points, (1, 1, 1, 1), mode="reflect")
    a = b = c = sxz = syz = 0
    for dy, dx in NEIGHBOURS:
        d = padded[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] - points
        m = d / (length(d) + NEIGHBOUR_EPS)
        mx, my, mz = m[:, 0], m[:, 1], m[:, 2]
        a, b, c = a + mx * mx, b + mx * my, c + my * my
        sxz, syz = sxz + mx * mz, syz + my * mz
    det = a * c - b * b + DET_EPS
    rx, ry = -sxz, -syz
    nx = (c * rx - b * ry) / det
    ny = (a * ry - b * rx) / det
    n = torch.stack([nx, ny, torch.ones_like(nx)], 1)
    return n / length(n)


def shade(points, normals, light_pos, light_color, shading):
    """Paper Eq. 1: `albedo * (ambient + sum_j color_j * max(0, n.d_j/|d_j|) / (k_l|d_j| +
    k_q|d_j|^2))`, `d_j` from the surfel to light j. `points`, `normals`: `[B, 3, H, W]`;
    `light_pos`, `light_color`: `[B, L, 3]`, camera frame. Returns `[B, 3, H, W]`, unclamped."""
    total = torch.tensor(shading.ambient).view(1, 3, 1, 1)
    for j in range(light_pos.shape[1]):
        d = light_pos[:, j, :, None, None] - points
        dist = length(d)
        cos = (normals * d).sum(1, keepdim=True) / dist
        attenuation = 1.0 / (shading.k_l * dist + shading.k_q * dist * dist)
        total = total + light_color[:, j, :, None, None] * (F.relu(cos) * attenuation)
    return torch.tensor(shading.albedo).view(1, 3, 1, 1) * total


class SurfelRenderer:
    """Depth `[B, H, W]` (distance along each pixel's ray, scene units) -> image `[B, 3, H, W]`."""

    def __init__(self, size, shading=Shading()):
        self.dirs = ray_directions(size, shading.fov_y_deg)
        self.shading = shading

    def __call__(self, depth, light_pos, light_color):
        points = depth[:, None] * self.dirs
        return shade(points, plane_fit_normals(points), light_pos, light_color, self.shading)


def default_lights(batch):
    pos = torch.tensor([p for p, _ in LIGHTS]).expand(batch, -1, -1).contiguous()
    col = torch.tensor([c for _, c in LIGHTS]).expand(batch, -1, -1).contiguous()
    return pos, col


def bench_depth(size, batch, seed=0):
    """Smooth depth maps with a little noise, as `pix2scene bench render` draws them."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = 0.8 + 0.2 * np.sin(3 * xx) * np.cos(2 * yy)
    noise = np.random.default_rng(seed).uniform(-0.01, 0.01, (batch, size, size))
    return torch.tensor(base[None] + noise, dtype=torch.float32)


# ---------------------------------------------------------------------------------------------
# The networks (crates/model): encoder, decoder with camera-conditional batch norm, joint critic


def stage_widths(resolution, width):
    return [width * 2**i for i in range(int(math.log2(resolution // 4)))]


class CondNorm(nn.Module):
    """Batch norm without affine parameters, then a per-sample scale and shift predicted from
    the camera by a linear layer that starts at scale 1, shift 0."""

    def __init__(self, channels):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.affine = nn.Linear(3, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        with torch.no_grad():
            self.affine.bias.copy_(torch.cat([torch.ones(channels), torch.zeros(channels)]))

    def forward(self, x, camera):
        gamma, beta = self.affine(camera)[:, :, None, None].chunk(2, 1)
        return gamma * self.norm(x) + beta


class Encoder(nn.Module):
    """E(x, c) -> z: stride-2 4x4 convs (no bias; CondNorm on all but the last; LeakyReLU),
    then a 4x4 valid conv to z_dim."""

    def __init__(self, resolution, width, z_dim):
        super().__init__()
        widths = stage_widths(resolution, width)
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)
            for c_in, c_out in zip([3] + widths[:-1], widths))
        self.norms = nn.ModuleList(CondNorm(w) for w in widths[:-1])
        self.head = nn.Conv2d(widths[-1], z_dim, 4)

    def forward(self, x, camera):
        h = x
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if i < len(self.norms):
                h = self.norms[i](h, camera)
            h = F.leaky_relu(h, LEAKY_SLOPE)
        return self.head(h).flatten(1)


class Decoder(nn.Module):
    """G(z, c) -> depth: [z, c] -> 4x4 transposed conv (no bias) -> CondNorm -> LeakyReLU, then
    stride-2 4x4 transposed convs halving the width, the last to one channel (with bias);
    depth = 0.2 + softplus."""

    def __init__(self, resolution, width, z_dim):
        super().__init__()
        widths = stage_widths(resolution, width)[::-1]
        self.project = nn.ConvTranspose2d(z_dim + 3, widths[0], 4, bias=False)
        self.project_norm = CondNorm(widths[0])
        outs = widths[1:] + [1]
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=c_out == 1)
            for c_in, c_out in zip(widths, outs))
        self.norms = nn.ModuleList(CondNorm(w) for w in outs[:-1])
        with torch.no_grad():
            self.ups[-1].weight.mul_(OUTPUT_INIT_SCALE)
            self.ups[-1].bias.mul_(OUTPUT_INIT_SCALE)

    def forward(self, z, camera):
        h = self.project(torch.cat([z, camera], 1)[:, :, None, None])
        h = F.leaky_relu(self.project_norm(h, camera), LEAKY_SLOPE)
        for i, up in enumerate(self.ups):
            h = up(h)
            if i < len(self.norms):
                h = F.leaky_relu(self.norms[i](h, camera), LEAKY_SLOPE)
        return MIN_DEPTH + F.softplus(h[:, 0])


class Critic(nn.Module):
    """D(x, z, c): [image, camera planes] -> stride-2 4x4 convs (bias, LeakyReLU, no norm) ->
    z joined as planes at 4x4 -> a 4x4 valid conv to a scalar."""

    def __init__(self, resolution, width, z_dim):
        super().__init__()
        widths = stage_widths(resolution, width)
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 4, 2, 1) for c_in, c_out in zip([6] + widths[:-1], widths))
        self.head = nn.Conv2d(widths[-1] + z_dim, 1, 4)

    def forward(self, x, z, camera):
        _, _, h, w = x.shape
        f = torch.cat([x, camera[:, :, None, None].expand(-1, -1, h, w)], 1)
        for conv in self.convs:
            f = F.leaky_relu(conv(f), LEAKY_SLOPE)
        f = torch.cat([f, z[:, :, None, None].expand(-1, -1, *f.shape[2:])], 1)
        return self.head(f).flatten()


# ---------------------------------------------------------------------------------------------
# The objective (crates/train): WGAN-GP ALI critic step, encoder/decoder step with Eq. 4's
# reconstructions over an image pyramid and the planarity prior


class PlanarityPrior:
    """Mean robust |second difference| of inverse z-depth along rows and columns, relative to
    the inverse z-depth at the stencil's centre (`tau * log1p(x / tau)`, or x when tau = 0)."""

    def __init__(self, size, tau):
        self.inv_ray_z = 1.0 / ray_directions(size, Shading().fov_y_deg)[2].abs()
        self.tau = tau

    def __call__(self, depth):
        w = self.inv_ray_z / depth

        def term(centre, second):
            x = second.abs() / centre
            return (self.tau * torch.log1p(x / self.tau) if self.tau > 0 else x).mean()

        rows = term(w[:, 1:-1], w[:, :-2] - 2 * w[:, 1:-1] + w[:, 2:])
        cols = term(w[:, :, 1:-1], w[:, :, :-2] - 2 * w[:, :, 1:-1] + w[:, :, 2:])
        return rows + cols


class Iteration:
    """One training iteration of a preset: `critic_steps` critic steps, one encoder/decoder
    step, as crates/train's `Trainer` and `pix2scene bench train` run them."""

    def __init__(self, preset, seed=0):
        m, o = preset["model"], preset["optim"]
        r, w, zd = m["resolution"], m["width"], m["z_dim"]
        self.o, self.r, self.zd, self.b = o, r, zd, o["batch"]
        torch.manual_seed(seed)
        self.encoder, self.decoder = Encoder(r, w, zd), Decoder(r, w, zd)
        self.critic = Critic(r, w, zd)
        adam = dict(lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["epsilon"])
        self.opt_critic = torch.optim.Adam(self.critic.parameters(), **adam)
        self.opt_gen = torch.optim.Adam(
            list(self.encoder.parameters()) + list(self.decoder.parameters()), **adam)
        self.levels = [(2**level, SurfelRenderer(r // 2**level))
                       for level in range(o["recon_levels"])]
        self.planarity = PlanarityPrior(r, o["planarity_scale"])
        g = torch.Generator().manual_seed(seed)
        self.image = torch.rand(self.b, 3, r, r, generator=g)
        self.camera = torch.rand(self.b, 3, generator=g)
        self.light_pos, self.light_color = default_lights(self.b)

    def render(self, depth, renderer=None):
        return (renderer or self.levels[0][1])(depth, self.light_pos, self.light_color)

    def scores(self, real, fake):
        """Mean critic scores of the real and the fake (image, code) pairs, in one pass."""
        x = torch.cat([real[0], fake[0]])
        z = torch.cat([real[1], fake[1]])
        s = self.critic(x, z, torch.cat([self.camera, self.camera]))
        return s[:self.b].mean(), s[self.b:].mean()

    def critic_step(self):
        b, x, cam = self.b, self.image, self.camera
        z = torch.randn(b, self.zd)
        with torch.no_grad():  # batch norm still in training mode, as in the Rust trainer
            z_real = self.encoder(x, cam)
            x_fake = self.render(self.decoder(z, cam))
        d_real, d_fake = self.scores((x, z_real), (x_fake, z))
        alpha = torch.rand(b, 1)
        x_hat = (alpha[:, :, None, None] * x + (1 - alpha[:, :, None, None]) * x_fake)
        z_hat = alpha * z_real + (1 - alpha) * z
        x_hat.requires_grad_()
        z_hat.requires_grad_()
        gx, gz = torch.autograd.grad(self.critic(x_hat, z_hat, cam).sum(), [x_hat, z_hat],
                                     create_graph=True)
        norm = (gx.flatten(1).square().sum(1) + gz.square().sum(1) + 1e-12).sqrt()
        penalty = (norm - 1).square().mean()
        loss = d_fake - d_real + self.o["gp_weight"] * penalty
        self.opt_critic.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_critic.step()

    def generator_step(self):
        o, x, cam = self.o, self.image, self.camera
        z = torch.randn(self.b, self.zd)
        z_real = self.encoder(x, cam)
        depth_rec, depth_fake = self.decoder(z_real, cam), self.decoder(z, cam)
        planarity = 0.5 * (self.planarity(depth_rec) + self.planarity(depth_fake))
        recon = 0
        for block, renderer in self.levels:
            d, target = depth_rec, x
            if block > 1:
                d = F.avg_pool2d(depth_rec[:, None], block)[:, 0]
                target = F.avg_pool2d(x, block)
            recon = recon + (self.render(d, renderer) - target).square().mean()
        recon = recon / len(self.levels)
        x_fake = self.render(depth_fake)
        recon_z = (self.encoder(x_fake, cam) - z).square().mean()
        for p in self.critic.parameters():
            p.requires_grad_(False)
        d_real, d_fake = self.scores((x, z_real), (x_fake, z))
        for p in self.critic.parameters():
            p.requires_grad_(True)
        loss = (o["adv_weight"] * (d_real - d_fake) + o["recon_x_weight"] * recon
                + o["recon_z_weight"] * recon_z + o["planarity_weight"] * planarity)
        self.opt_gen.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_gen.step()


# ---------------------------------------------------------------------------------------------
# Presets: configs/*.toml with --set overrides, checked against what this script implements

DEFAULTS = {  # crates/train/src/config.rs defaults of the keys used here
    "model": dict(resolution=64, width=32, z_dim=128, num_classes=0, decoder_coarse_heads=0,
                  decoder_fine_gain=1.0),
    "data": dict(random_lights=False),
    "optim": dict(batch=6, lr=2e-4, beta1=0.0, beta2=0.999, epsilon=1e-8, critic_steps=5,
                  gp_weight=10.0, adv_weight=1.0, recon_x_weight=1.0, recon_z_weight=1.0,
                  planarity_weight=0.0, planarity_scale=0.0, recon_levels=1, refine_steps=0,
                  regress_steps=0),
}
# Options of the Rust trainer that this yardstick does not implement: a preset must leave them
# at these values.
UNSUPPORTED = {
    "model.num_classes": 0, "model.decoder_coarse_heads": 0, "model.decoder_fine_gain": 1.0,
    "data.random_lights": False, "optim.refine_steps": 0, "optim.regress_steps": 0,
}


def load_preset(path, overrides):
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as err:
        sys.exit(f"error: {path}: {err}")
    for arg in overrides:
        key, sep, value = arg.partition("=")
        section, _, leaf = key.strip().partition(".")
        if not sep or not leaf:
            sys.exit(f"error: --set {arg}: expected section.key=value")
        try:
            value = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = value.strip()
        raw.setdefault(section, {})[leaf] = value
    preset = {s: {**keys, **raw.get(s, {})} for s, keys in DEFAULTS.items()}
    for key, expected in UNSUPPORTED.items():
        section, leaf = key.split(".")
        if preset[section][leaf] != expected:
            sys.exit(f"error: {path}: {key} = {preset[section][leaf]} is not implemented by the "
                     f"PyTorch yardstick (it needs {expected})")
    return preset


# ---------------------------------------------------------------------------------------------
# Commands


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def median_s(step, reps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def cmd_render(a):
    s, b = a.size, a.batch
    renderer, depth0 = SurfelRenderer(s), bench_depth(s, b)
    pos, col = default_lights(b)

    def forward():
        with torch.no_grad():
            renderer(depth0, pos, col)

    def forward_backward():
        depth = depth0.clone().requires_grad_()
        renderer(depth, pos, col).sum().backward()

    out = {"impl": "pytorch-reference", "torch": torch.__version__, "threads": a.threads,
           "size": s, "batch": b, "reps": a.reps,
           "fwd_ms_per_image": median_s(forward, a.reps, 3) * 1e3 / b,
           "fwd_bwd_ms_per_image": median_s(forward_backward, a.reps, 3) * 1e3 / b,
           "peak_rss_mib": peak_rss_mib()}
    report(out, a.json, ["fwd_ms_per_image", "fwd_bwd_ms_per_image", "peak_rss_mib"])


def cmd_train(a):
    preset = load_preset(a.config, a.set)
    it = Iteration(preset)
    critic_s, gen_s, iter_s = [], [], []
    for i in range(a.iters + 1):  # iteration 0 warms up
        t0 = time.perf_counter()
        per_critic = []
        for _ in range(preset["optim"]["critic_steps"]):
            t = time.perf_counter()
            it.critic_step()
            per_critic.append(time.perf_counter() - t)
        t = time.perf_counter()
        it.generator_step()
        g = time.perf_counter() - t
        if i > 0:
            iter_s.append(time.perf_counter() - t0)
            critic_s += per_critic
            gen_s.append(g)
    m, o = preset["model"], preset["optim"]
    s = float(np.median(iter_s))
    out = {"impl": "pytorch-reference", "torch": torch.__version__, "config": a.config,
           "res": m["resolution"], "width": m["width"], "zdim": m["z_dim"], "batch": o["batch"],
           "critic_steps": o["critic_steps"], "threads": a.threads, "iters": a.iters,
           "s_per_iter": s, "iters_per_s": 1 / s,
           "critic_step_s": float(np.median(critic_s)),
           "generator_step_s": float(np.median(gen_s)),
           "peak_rss_mib": peak_rss_mib()}
    report(out, a.json, ["iters_per_s", "s_per_iter", "critic_step_s", "generator_step_s",
                         "peak_rss_mib"])


def hand_counts(r, w, z):
    """Parameter counts of crates/model's tests (`expected_params` of the encoder, decoder and
    critic), running statistics excluded."""
    stages = int(math.log2(r // 4))
    widths = [w * 2**i for i in range(stages)]
    enc, c_in = 0, 3
    for i, wi in enumerate(widths):
        enc += c_in * wi * 16 + (8 * wi if i + 1 < stages else 0)
        c_in = wi
    enc += c_in * z * 16 + z
    rev = widths[::-1]
    dec = (z + 3) * rev[0] * 16 + 8 * rev[0]
    for i, wi in enumerate(rev):
        dec += wi * rev[i + 1] * 16 + 8 * rev[i + 1] if i + 1 < stages else wi * 16 + 1
    crit, c_in = 0, 6
    for wi in widths:
        crit += c_in * wi * 16 + wi
        c_in = wi
    crit += (c_in + z) * 16 + 1
    return enc, dec, crit


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR",
                            os.path.expanduser("~/.cache/pix2scene-target"))
    return os.path.join(target, "release", "pix2scene")


def cmd_check(a):
    failures = []
    for r, w, z in [(64, 32, 128), (128, 85, 128), (32, 8, 16)]:
        nets = (Encoder(r, w, z), Decoder(r, w, z), Critic(r, w, z))
        got = tuple(sum(p.numel() for p in n.parameters()) for n in nets)
        ok = got == hand_counts(r, w, z)
        print(f"parameters {r}² width {w} z {z}: encoder/decoder/critic {got} "
              f"{'= the hand counts' if ok else '!= hand counts ' + str(hand_counts(r, w, z))}")
        failures += [] if ok else [f"parameter counts at {r}²"]
    # Depth maps with a smooth part, a step (a box's silhouette) and noise; three cases: the
    # default shading, per-sample light positions with a dark light, and a 1-light batch.
    rng = np.random.default_rng(7)
    s, b = 48, 3
    depth = bench_depth(s, b, seed=7).numpy()
    depth[:, 14:30, 18:34] -= 0.25
    depth += rng.uniform(-0.003, 0.003, depth.shape).astype(np.float32)
    cases = [("default shading", None),
             ("per-sample lights, one dark", {
                 "fovy_deg": 30.0, "albedo": [0.7, 0.5, 0.6], "ambient": [0.15, 0.1, 0.05],
                 "kl": 0.3, "kq": 0.8,
                 "lights": [{"pos_cam": rng.uniform(-0.6, 0.6, (b, 3)).round(4).tolist(),
                             "color": [0.9, 0.7, 0.5]},
                            {"pos_cam": [0.2, 0.5, 0.4], "color": [0.0, 0.0, 0.0]}]})]
    with tempfile.TemporaryDirectory() as tmp:
        depth_path = os.path.join(tmp, "depth.npy")
        np.save(depth_path, depth.astype(np.float32))
        for name, params in cases:
            cmd = [a.bin, "--threads", "1", "shade", "--depth", depth_path]
            if params:
                with open(os.path.join(tmp, "params.json"), "w") as f:
                    json.dump(params, f)
                cmd += ["--params", os.path.join(tmp, "params.json")]
            out_path = os.path.join(tmp, "image.npy")
            try:
                run = subprocess.run(cmd + ["--out", out_path], capture_output=True, text=True)
            except OSError as err:
                sys.exit(f"error: {a.bin}: {err.strerror} (build it with `cargo build --release "
                         f"-p pix2scene` or pass --bin)")
            if run.returncode != 0:
                sys.exit(f"error: {' '.join(cmd)}: {run.stderr.strip()}")
            ours = np.load(out_path)  # [B, H, W, 3]
            mine = render_with_params(torch.tensor(depth), params).permute(0, 2, 3, 1).numpy()
            diff = np.abs(ours - mine)
            ok = diff.max() <= a.tolerance
            print(f"shade vs torch, {name}: max |diff| {diff.max():.2e}, mean {diff.mean():.2e} "
                  f"({'within' if ok else 'above'} {a.tolerance:g})")
            failures += [] if ok else [f"shade: {name}"]
    # The committed golden image of crates/render's test, rendered by an independent PyTorch
    # renderer: per-sample lights and a zero-colour light on a smooth map and a box edge.
    data = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "crates", "render", "tests", "data")
    with open(os.path.join(data, "golden_{a}.json")) as f:
        params = json.load(f)
    depth = torch.tensor(np.load(os.path.join(data, "golden_{a}.npy")))
    golden = np.load(os.path.join(data, "golden_{a}.npy"))
    mine = render_with_params(depth, params).permute(0, 2, 3, 1).numpy()
    diff = np.abs(golden - mine)
    ok = diff.max() <= a.tolerance
    print(f"torch vs the committed golden image (crates/render/tests/data): max |diff| "
          f"{diff.max():.2e}, mean {diff.mean():.2e} ({'within' if ok else 'above'} "
          f"{a.tolerance:g})")
    failures += [] if ok else ["golden image"]
    if failures:
        sys.exit("error: check failed: " + ", ".join(failures))
    print("check passed")


def render_with_params(depth, params):
    """The renderer with a `pix2scene shade --params` file's values; missing keys (or no file,
    None) take the defaults. `depth`: `[B, H, W]`; returns `[B, 3, H, W]`."""
    b, s, _ = depth.shape
    params = params or {}
    d = Shading()
    shading = Shading(params.get("fovy_deg", d.fov_y_deg), tuple(params.get("albedo", d.albedo)),
                      tuple(params.get("ambient", d.ambient)), params.get("kl", d.k_l),
                      params.get("kq", d.k_q))
    lights = params.get("lights", [{"pos_cam": p, "color": c} for p, c in LIGHTS])
    per_sample = [l["pos_cam"] if isinstance(l["pos_cam"][0], list) else [l["pos_cam"]] * b
                  for l in lights]
    pos = torch.tensor(per_sample, dtype=torch.float32).permute(1, 0, 2).contiguous()
    col = torch.tensor([l["color"] for l in lights], dtype=torch.float32)
    return SurfelRenderer(s, shading)(depth, pos, col[None].expand(b, -1, -1).contiguous())


def cmd_shade(a):
    """`pix2scene shade` in PyTorch: depth `.npy` (`[H, W]` or `[B, H, W]`) -> image `.npy`
    (`[B, H, W, 3]` float32, unclamped)."""
    depth = np.load(a.depth).astype(np.float32)
    depth = depth[None] if depth.ndim == 2 else depth
    params = None
    if a.params:
        with open(a.params) as f:
            params = json.load(f)
    with torch.no_grad():
        image = render_with_params(torch.tensor(depth), params).permute(0, 2, 3, 1)
    np.save(a.out, image.contiguous().numpy())


def report(out, as_json, keys):
    if as_json:
        print(json.dumps(out))
    else:
        for k in keys:
            print(f"{k}: {out[k]:.4g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render", help="time the surfel renderer")
    r.add_argument("--size", type=int, default=128)
    r.add_argument("--batch", type=int, default=6)
    r.add_argument("--reps", type=int, default=20, help="timed repetitions (median reported)")
    t = sub.add_parser("train", help="time training iterations of a preset")
    t.add_argument("--config", required=True, help="preset file (configs/*.toml)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a preset key, as `pix2scene bench train --set`")
    t.add_argument("--iters", type=int, default=5, help="timed iterations (median reported)")
    sh = sub.add_parser("shade", help="render depth maps, as `pix2scene shade` (.npy only)")
    sh.add_argument("--depth", required=True, help="float32 .npy, [H, W] or [B, H, W]")
    sh.add_argument("--params", help="shading parameters (JSON), as `pix2scene shade --params`")
    sh.add_argument("--out", required=True, help="[B, H, W, 3] float32 .npy")
    c = sub.add_parser("check", help="compare the renderer with `pix2scene shade`")
    c.add_argument("--bin", default=default_binary(), help="the pix2scene binary")
    c.add_argument("--tolerance", type=float, default=5e-5, help="largest |difference| allowed")
    for p in (r, t, sh, c):
        p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
        p.add_argument("--json", action="store_true", help="one JSON object on the last line")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    {"render": cmd_render, "train": cmd_train, "shade": cmd_shade, "check": cmd_check}[a.cmd](a)


if __name__ == "__main__":
    main()
