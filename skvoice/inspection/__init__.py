"""Look inside the CNN: activations, Grad-CAM, frequency importance, training dynamics."""

from ._activations import frequency_importance, grad_cam, layer_activations
from ._display import (
    FeatureMapDisplay,
    FrequencyImportanceDisplay,
    GradCAMDisplay,
    KernelDisplay,
    LayerDriftDisplay,
    ReinitializationDisplay,
)
from ._drift import layer_drift, reinitialization_robustness

__all__ = [
    "FeatureMapDisplay",
    "FrequencyImportanceDisplay",
    "GradCAMDisplay",
    "KernelDisplay",
    "LayerDriftDisplay",
    "ReinitializationDisplay",
    "frequency_importance",
    "grad_cam",
    "layer_activations",
    "layer_drift",
    "reinitialization_robustness",
]
