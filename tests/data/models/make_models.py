"""Write the model files of this folder with the installed skvoice.

The files are kept to test that every older model format still loads and
predicts as when it was written: ``python make_models.py`` with the skvoice of
a release writes ``v<format>_<kind>.skvoice`` and the probabilities the model
gave, ``v<format>_expected.json``. Each file is a few kB.
"""

import json
from pathlib import Path

from sklearn.pipeline import make_pipeline

from skvoice._persist import FORMAT_VERSION, save_model
from skvoice.datasets import make_voices
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import make_enrollment_pipeline

HERE = Path(__file__).parent


def voices():
    """The recordings every file is fitted on and checked with."""
    return make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)


def models(v):
    net = dict(
        module__n_filters=4,
        module__n_blocks=2,
        module__embedding_dim=16,
        crop_frames=16,
        max_epochs=2,
    )
    cosine = make_pipeline(
        SilenceTrimmer(), SpectrogramExtractor(n_mels=32), CNNClassifier(**net, random_state=0)
    ).fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    posterior = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(n_mels=32),
        CNNClassifier(**net, objective="binary", random_state=0),
    ).fit(v.data, v.target)
    enrolment = make_enrollment_pipeline("speechocean762").fit(
        v.data, v.target, enrollmentverifier__speakers=v.speaker
    )
    return {"cosine": cosine, "posterior": posterior, "enrolment": enrolment}


if __name__ == "__main__":
    v = voices()
    expected = {}
    for kind, model in models(v).items():
        save_model(model, HERE / f"v{FORMAT_VERSION}_{kind}.skvoice")
        expected[kind] = model.predict_proba(v.data).tolist()
    (HERE / f"v{FORMAT_VERSION}_expected.json").write_text(json.dumps(expected))
