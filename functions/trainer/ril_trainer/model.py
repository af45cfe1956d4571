"""The compact student, model family ``ril-vlm-v1``: one readable file.

    pixels [B,C,H,W] -> VisionEncoder (patches + bidirectional transformer) -> [B,N,Dv]
                     -> Projector (MLP)                                      -> [B,N,D]
    sequence = [image embeddings (N)] + [token embeddings of the prompt/response]
             -> causal Decoder (pre-LN GPT blocks, learned positions, KV cache) -> logits [B,T,V]

Choices (the RIL paper uses Qwen2.5-VL / InternVL students; a compact student is our own):
- Learned absolute positions; positions are explicit (``position_ids``) so padded batches and the
  ONNX decode graph carry no hidden state. In a padded batch position = (number of real tokens
  before it), so a padded row computes exactly what the unpadded row would.
- ``attention_mask`` is a key mask over the *whole* sequence seen so far (image + past + new),
  1 = real token, 0 = padding. Pads may sit anywhere (we left-pad prompts after the image).
- Attention is written out (no fused kernel) so torch 1.13 and 2.x run the same arithmetic and
  the TorchScript ONNX exporter sees plain ops. Masked scores get the dtype's minimum, not -inf.
- The LM head is tied to the token embedding.
"""
from __future__ import annotations

import dataclasses
import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ModelConfig
from .tokenizer import BYTE, Tokenizer

KV = Tuple[torch.Tensor, torch.Tensor]  # (key, value), each [B, H, T, Dh]


# ----------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------


class Attention(nn.Module):
    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.head_dim = n_heads, dim // n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, causal: bool, key_mask: Optional[torch.Tensor] = None,
                past: Optional[KV] = None) -> Tuple[torch.Tensor, KV]:
        # x [B,T,D]; key_mask [B,P+T] (1 = attend) or None; past k/v [B,H,P,Dh]
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)
        q = q.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # [B,H,T,Dh]
        k = k.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)  # [B,H,P+T,Dh]
            v = torch.cat([past[1], v], dim=2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))  # [B,H,T,P+T]
        neg = torch.finfo(scores.dtype).min
        if causal and T > 1:
            # query i sits at key index P+i; it may see keys 0..P+i (P = past length).
            P = k.shape[2] - T
            allowed = torch.ones_like(scores[0, 0], dtype=torch.bool).tril(diagonal=P)  # [T,P+T]
            scores = scores.masked_fill(~allowed, neg)
        if key_mask is not None:
            scores = scores.masked_fill(key_mask[:, None, None, :] == 0, neg)
        att = F.softmax(scores.float(), dim=-1).to(q.dtype)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)  # [B,T,D]
        return self.drop(self.proj(y)), (k, v)


class Block(nn.Module):
    """Pre-LN transformer block; ``causal`` picks decoder vs encoder attention."""

    def __init__(self, dim: int, n_heads: int, mlp_ratio: int, dropout: float, causal: bool):
        super().__init__()
        self.causal = causal
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, n_heads, dropout)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, key_mask: Optional[torch.Tensor] = None,
                past: Optional[KV] = None) -> Tuple[torch.Tensor, KV]:
        a, present = self.attn(self.ln1(x), self.causal, key_mask, past)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return x, present


# ----------------------------------------------------------------------------------------------
# Vision encoder and projector
# ----------------------------------------------------------------------------------------------


class VisionEncoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.patch = nn.Conv2d(cfg.channels, cfg.vision_dim, kernel_size=cfg.patch_size, stride=cfg.patch_size)
        self.pos = nn.Parameter(torch.zeros(1, cfg.n_image_tokens, cfg.vision_dim))
        self.blocks = nn.ModuleList(Block(cfg.vision_dim, cfg.vision_heads, cfg.mlp_ratio, cfg.dropout, causal=False)
                                    for _ in range(cfg.vision_layers))
        self.ln = nn.LayerNorm(cfg.vision_dim)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # pixel_values [B,C,H,W] (normalised) -> [B,N,Dv]
        x = self.patch(pixel_values).flatten(2).transpose(1, 2) + self.pos  # [B,N,Dv]
        for blk in self.blocks:
            x, _ = blk(x)
        return self.ln(x)


class Projector(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cfg.vision_dim, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, cfg.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # [B,N,Dv] -> [B,N,D]


# ----------------------------------------------------------------------------------------------
# The student
# ----------------------------------------------------------------------------------------------


class StudentVLM(nn.Module):
    def __init__(self, cfg: ModelConfig, tokenizer: Tokenizer = BYTE):
        super().__init__()
        if tokenizer.vocab_size != cfg.vocab_size:
            raise ValueError(f"the {tokenizer.kind} tokenizer has {tokenizer.vocab_size} ids but the model config "
                             f"says vocab_size {cfg.vocab_size}")
        self.cfg = cfg.validate()
        self.tokenizer = tokenizer  # travels with the weights: checkpoints and bundles store it
        self.vision = VisionEncoder(cfg)
        self.projector = Projector(cfg)
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_seq_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg.d_model, cfg.n_heads, cfg.mlp_ratio, cfg.dropout, causal=True)
                                    for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # tied
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2 scaled init of residual projections
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * max(cfg.n_layers, 1)))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def num_parameters(self) -> dict:
        """Unique parameter counts (the tied LM head counted once)."""
        count = lambda mod: sum(p.numel() for p in mod.parameters())  # noqa: E731
        vision, proj = count(self.vision), count(self.projector)
        total = sum(p.numel() for p in self.parameters())  # .parameters() deduplicates tied weights
        return {"vision": vision, "projector": proj, "language": total - vision - proj, "total": total}

    def embed_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.projector(self.vision(pixel_values))  # [B,C,H,W] -> [B,N,D]

    def forward(self, pixel_values: Optional[torch.Tensor], input_ids: torch.Tensor,
                attention_mask: Optional[torch.Tensor] = None, position_ids: Optional[torch.Tensor] = None,
                past: Optional[List[KV]] = None) -> Tuple[torch.Tensor, List[KV]]:
        """Logits [B,(N+)T,V] and the present cache; arguments as in ``hidden_states``."""
        h, presents = self.hidden_states(pixel_values, input_ids, attention_mask, position_ids, past)
        return self.lm_head(h), presents

    def hidden_states(self, pixel_values: Optional[torch.Tensor], input_ids: torch.Tensor,
                      attention_mask: Optional[torch.Tensor] = None, position_ids: Optional[torch.Tensor] = None,
                      past: Optional[List[KV]] = None) -> Tuple[torch.Tensor, List[KV]]:
        """One decoder pass up to the final LayerNorm (a discriminator head can sit on top).

        pixel_values [B,C,H,W] or None: when given, the N image embeddings are prepended to input_ids.
        input_ids [B,T] token ids of the new positions.
        attention_mask [B,P+N+T] key mask over everything seen (past + image + new); None = all real.
        position_ids [B,(N+)T] positions of the new sequence; None = cumsum(mask)-1 (or P..P+T-1).
        past: per layer (k, v) [B,H,P,Dh] or None.
        Returns final hidden states [B,(N+)T,D] and the present cache per layer [B,H,P+(N+)T,Dh].
        """
        x = self.tok_emb(input_ids)  # [B,T,D]
        if pixel_values is not None:
            x = torch.cat([self.embed_image(pixel_values), x], dim=1)  # [B,N+T,D]
        B, T, _ = x.shape
        P = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            if attention_mask is not None:
                position_ids = (attention_mask.long().cumsum(1) - 1).clamp(min=0)[:, -T:]
            else:
                position_ids = torch.arange(P, P + T, device=x.device).unsqueeze(0).expand(B, T)
        x = self.drop(x + self.pos_emb(position_ids))
        presents: List[KV] = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, attention_mask, None if past is None else past[i])
            presents.append(kv)
        return self.ln_f(x), presents


def build_model(cfg: ModelConfig, seed: Optional[int] = None, tokenizer: Tokenizer = BYTE) -> StudentVLM:
    """A freshly initialised student; its vocab_size follows the tokenizer's."""
    if seed is not None:
        torch.manual_seed(seed)
    return StudentVLM(dataclasses.replace(cfg, vocab_size=tokenizer.vocab_size), tokenizer)
