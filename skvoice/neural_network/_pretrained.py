"""The pretrained speaker encoders that ship with skvoice, and how to load one."""

# The front-end the shipped encoders were trained on: SpectrogramExtractor's
# defaults at 16 kHz (speech lives below 8 kHz; narrower input is resampled).
FRONTEND = {
    "sr": 16000,
    "kind": "mel",
    "n_fft": 1024,
    "hop_length": 256,
    "n_mels": 64,
    "fmin": 0.0,
    "fmax": 8000.0,
    "top_db": 80.0,
    "normalize": "recording",
}

# CNNClassifier's default trunk, so CNNClassifier(init=...) can start from it.
ARCHITECTURE = {"n_filters": 16, "n_blocks": 4, "kernel_size": 3, "embedding_dim": 128}

PROVENANCE = {
    "licence": "CC BY 4.0 (the training corpus); the weights are distributed under the same terms",
    "attribution": (
        "speechocean762: A Non-Native English Speech Corpus for Pronunciation "
        "Assessment, Junbo Zhang, Zhiwen Zhang, Yongqing Wang, Zhiyong Yan, Qiong "
        "Song, Yukai Huang, Ke Li, Daniel Povey, Yujun Wang (Interspeech 2021), "
        "https://github.com/jimbozhang/speechocean762"
    ),
}


def trunk_state(module):
    """The trunk's weights (everything but the speaker head), as a plain dict."""
    return {
        k: v.detach().clone() for k, v in module.state_dict().items() if not k.startswith("head.")
    }
