"""
Looking inside the CNN
======================

The report's three extra analyses on synthetic voices: what the conv layers see
(feature maps, Grad-CAM and the frequency bands each speaker's decision rests on), how
far each layer moves during training, and how robust the trained network is to
resetting one layer to an earlier epoch (Zhang, Bengio & Singer 2019).
"""

import matplotlib.pyplot as plt
from sklearn.pipeline import make_pipeline

from skvoice.datasets import make_voices
from skvoice.inspection import (
    FeatureMapDisplay,
    FrequencyImportanceDisplay,
    GradCAMDisplay,
    KernelDisplay,
    LayerDriftDisplay,
    ReinitializationDisplay,
)
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

voices = make_voices(n_speakers=6, n_recordings=8, duration=2.0, random_state=0)
X, y, spk = voices.data, voices.target, voices.speaker
pipe = make_pipeline(
    SilenceTrimmer(),
    SpectrogramExtractor(),
    CNNClassifier(max_epochs=12, track_layers=True, random_state=0),
)
pipe.fit(X, y, cnnclassifier__groups=spk)

# %%
# Feature maps of the first two blocks for one recording, and the first layer's kernels.
FeatureMapDisplay.from_estimator(pipe, X, index=0, layers=["blocks.block0", "blocks.block1"])
KernelDisplay.from_estimator(pipe)

# %%
# Where the network looks (Layer-CAM keeps the frequency detail of the last block),
# and which bands each speaker's score rests on, by saliency and by occlusion.
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
GradCAMDisplay.from_estimator(pipe, X, index=0, ax=ax)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
FrequencyImportanceDisplay.from_estimator(pipe, X, groups=spk, method="gradcam", ax=axes[0])
FrequencyImportanceDisplay.from_estimator(pipe, X, groups=spk, method="occlusion", ax=axes[1])
axes[0].set_title("Grad-CAM (first block)")
axes[1].set_title("Occlusion")

# %%
# Training dynamics: drift of each layer from its initialisation, and the score
# after resetting one layer to an earlier epoch (the final epoch gives the fitted
# score exactly). The network scores by cosine to the allowed speakers' centroids,
# so they are enrolled again from the training recordings after every reset.
LayerDriftDisplay.from_estimator(pipe)
ReinitializationDisplay.from_estimator(
    pipe, X, y, checkpoints=[0, 1, 3, 6, 12], scoring="roc_auc", enroll=(X, y, spk)
)
