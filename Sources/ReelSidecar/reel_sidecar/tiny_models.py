"""Builds tiny, randomly initialised video models offline and saves them in diffusers format,
so tests load them from a folder exactly as a downloaded checkpoint is loaded.

    python -m reel_sidecar.tiny_models --family wan|ltx OUT_DIR [--seed 0]

No hub access: the T5 text encoder is built from a config, and its tokenizer from a small
sentencepiece model trained here on a few sentences (transformers 5 ignores ``vocab_file=`` for
T5Tokenizer, so the vocabulary is passed as ``vocab=[(piece, score), ...]``).
"""

import argparse
import io
import os

import torch

SENTENCES = [
    "a red fox runs through a snowy forest at dawn",
    "waves roll onto a quiet beach under a pink sky",
    "a city street at night with neon signs and rain",
    "dance monkey, a cat on a skateboard, slow motion",
    "blurry, low quality, distorted, watermark, text",
    "mountains, river, birds, clouds, sunlight, trees, grass",
]


def tiny_tokenizer() -> object:
    import sentencepiece as spm
    from transformers import T5Tokenizer

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 4),
        model_writer=model,
        vocab_size=60,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def tiny_text_encoder(vocab_size: int) -> object:
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
    )
    return T5EncoderModel(config)


def build_wan(seed: int) -> object:
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    text_encoder = tiny_text_encoder(len(tokenizer))
    return WanPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
    )


def build_wan22(seed: int) -> object:
    """Wan 2.2's layout: a second transformer for low noise, switched at `boundary_ratio`."""
    from diffusers import WanPipeline, WanTransformer3DModel

    wan = build_wan(seed)
    torch.manual_seed(seed + 1)
    second = WanTransformer3DModel.from_config(wan.transformer.config)
    return WanPipeline(
        tokenizer=wan.tokenizer,
        text_encoder=wan.text_encoder,
        transformer=wan.transformer,
        vae=wan.vae,
        scheduler=wan.scheduler,
        transformer_2=second,
        boundary_ratio=0.875,
    )


def build_ltx(seed: int) -> object:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(seed)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(seed)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_block_out_channels=(8, 8, 8, 8),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4,
        upsample_factor=(1,) * 4,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    text_encoder = tiny_text_encoder(len(tokenizer))
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True,
        base_shift=0.95,
        max_shift=2.05,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
        shift_terminal=0.1,
    )
    return LTXPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae, scheduler=scheduler
    )


BUILDERS = {"wan": build_wan, "wan22": build_wan22, "ltx": build_ltx}


def build(family: str, folder: str, seed: int = 0) -> str:
    """Builds the tiny `family` model and saves it to `folder` (diffusers layout); returns the folder."""
    pipeline = BUILDERS[family](seed)
    os.makedirs(folder, exist_ok=True)
    pipeline.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", choices=sorted(BUILDERS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("folder")
    args = parser.parse_args()
    print(build(args.family, args.folder, args.seed))


if __name__ == "__main__":
    main()
