"""CNNClassifier: a scikit-learn classifier on spectrograms, trained by skorch."""

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._groups import speaker_columns
from .._labels import knows_allowed_label
from ..decisions import (
    CROSSFIT_PARAMS_DOC,
    OPERATING_POINT_CONSTRAINTS,
    CosineScorer,
    EnrollmentVerifier,
    OperatingPointMixin,
    PosteriorScorer,
    fill_doc,
    unit_rows,
)
from ._base import (
    ModuleParamsMixin,
    SpectrogramNetMixin,
    resolve_device,
    seed_from,
    window_embeddings,
    window_outputs,
)
from ._module import SpectrogramCNN
from ._network_state import NetworkStateMixin
from ._novelty import NoveltyMixin
from ._objective import (
    SpeakersNotPassedWarning,
    resolve_backend,
    resolve_objective,
    warn_speakers_not_passed,
)
from ._pretrained import pretrained_trunk
from ._speaker_validation import SpeakerVerificationScoring, split_speakers
from ._training import OPTIMIZERS, class_weights, train_net

__all__ = ["CNNClassifier", "SpeakersNotPassedWarning"]


@fill_doc(crossfit_params=CROSSFIT_PARAMS_DOC)
class CNNClassifier(
    ModuleParamsMixin,
    OperatingPointMixin,
    NoveltyMixin,
    NetworkStateMixin,
    SpectrogramNetMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Convolutional network on spectrograms, as a scikit-learn classifier.

    Trains on random crops of ``crop_frames`` frames of every recording (shorter
    recordings are looped), a fresh crop per recording each epoch. Predicts by
    sliding windows of the same width (half overlapping) over the whole recording
    and averaging the windows' log-probabilities: one probability per recording,
    whatever its length. The training loop is skorch (``net_``).

    The network's architecture is one parameter group, ``module__*``, as in
    skorch: the arguments of :class:`SpectrogramCNN` (the module built), each
    defaulting to the module's own default. ``CNNClassifier(module__n_filters=8)``;
    in a search, ``{"cnnclassifier__module__n_filters": [8, 16]}``.

    Parameters
    ----------
    crop_frames : int, default=128
        Width of a training crop and of a prediction window, in frames (128
        frames of hop 256 at 16 kHz are 2 s, as speaker-verification practice).
    pretrained : str, path-like or None, default=None
        Start the trunk (conv blocks and embedding) from a pretrained speaker
        encoder, a name from :func:`available_encoders` (``"speechocean762"``,
        ``"speechocean762-distilled"``)
        or a ``.pt`` file of ``tools/pretrain_encoder.py``, and fine-tune it on
        the training speakers; the head starts afresh. The architecture
        parameters must be the encoder's (the defaults are those of the shipped
        encoder) and the input its front-end's spectrograms (SpectrogramExtractor's
        defaults at 16 kHz). None: random initialisation.
    freeze_epochs : int, default=0
        With ``pretrained``, train only the head for this many epochs before
        the whole network (the trunk keeps its pretrained weights meanwhile).
    max_epochs : int, default=30
        Training epochs (fewer with ``early_stopping``).
    batch_size : int, default=32
        Crops per batch.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser (SGD with momentum 0.9).
    weight_decay : float, default=0.0
        L2 penalty of the optimiser.
    objective : {"auto", "speakers", "binary"}, default="auto"
        What the network learns. ``"speakers"``: a classifier over the training
        speakers (``groups`` in ``fit``), whose posteriors are summed over the
        speakers of each class to score a recording; an impostor never heard in
        training then has to resemble one allowed voice more than all the refused
        ones (the CNN user guide measures the difference on real speech).
        ``"binary"``: learn the classes directly. ``"auto"``: speakers when
        ``groups`` is given and each speaker has one class, else binary.
    backend : {"auto", "posterior", "cosine"}, default="auto"
        The scoring rule (``scorer_``). ``"cosine"`` (speaker objective, two
        classes): speaker verification's; the recording's unit-length mean
        embedding, centred, is compared by cosine with one centroid per allowed
        training speaker (``verifier_``, an
        :class:`~skvoice.verification.EnrollmentVerifier`) and the best similarity
        is calibrated. ``"posterior"``: the class probabilities (speaker
        posteriors summed per class). ``"auto"``: cosine where it applies, else
        posterior. The CNN user guide says why cosine is the default.
    pos_label : int, float, bool, str or None, default=None
        The allowed label (two classes). None: 1 (labels 0/1, False/True or
        -1/1). Cosine scoring enrols the allowed speakers and ``target_far``
        counts the refused ones, so there other labels without ``pos_label`` are
        an error: the order of the labels never decides who is enrolled.
        Elsewhere such labels give a plain classifier (``pos_label_ = None``).
    target_far : float in (0, 1) or None, default=None
        False-acceptance rate to operate at (two classes, ``groups`` in fit).
        ``fit`` then refits the network ``cv`` times without a fold of the
        refused speakers and a share of the allowed speakers' recordings, scores
        the held-out recordings, and sets ``threshold_`` so that at most this
        share of those impostors, never heard by the model that scored them, is
        accepted; ``predict`` uses it. See :ref:`operating_point`.
    %(crossfit_params)s
    class_weight : "balanced", dict or None, default="balanced"
        Weights of the classes in the loss; "balanced" weighs them inversely to
        their frequency (DAPS has 6 allowed and 14 refused speakers); with the
        speaker objective, every speaker weighs the same.
    augment : bool, default=False
        SpecAugment-style time and frequency masks and a random level offset on
        the training crops.
    early_stopping : bool, default=False
        Stop when validation has not improved for ``patience`` epochs, keeping the
        best weights. With the speaker objective, ``validation_fraction`` of the
        speakers (at least 2, drawn from the class with the most speakers: the
        refused ones in access control) are held out of training altogether, and
        the network is validated as it is used: by the equal error rate of their
        verification trials (every pair of their recordings, cosine of the
        embeddings), recorded as ``valid_eer``. With the binary objective, the
        validation loss on held-out speakers (``groups``), or on held-out
        recordings when no groups are given (with a warning).
    validation_fraction : float, default=0.2
        Share of speakers held out with ``early_stopping``.
    patience : int, default=5
        Epochs without improvement before stopping.
    callbacks : list of (str, skorch callback) or None, default=None
        Extra skorch callbacks.
    device : str, default="cpu"
        ``"cpu"`` or ``"cuda[:n]"`` (when available). Batches are moved to the
        device as they are formed; prediction sends each recording's windows as
        one batch.
    amp : bool, default=False
        Mixed precision: forward passes run under bfloat16 autocast (training
        and prediction), the weights and the optimiser stay float32. Worth it on
        a GPU with bfloat16 tensor cores; on CPU it runs, usually slower.
    checkpoint_dir : str, Path or None, default=None
        Directory of per-epoch checkpoints (weights, optimiser, history, random
        generators and callbacks' states; one file per fit, named by a hash of
        parameters and data). A fit that matches a checkpoint resumes from it and
        gives the same model as an uninterrupted one; see the scaling guide.
    track_layers : bool or list of int, default=False
        Record every layer's parameters at initialisation and after each epoch
        (or at the listed epochs), for :func:`skvoice.inspection.layer_drift`.
    random_state : int, RandomState instance or None, default=None
        Seed of the weights, crops, shuffling and dropout.
    verbose : int, default=0
        skorch's per-epoch log when 1.
    **module_params : dict
        The architecture, ``module__<argument>`` for the arguments of
        :class:`SpectrogramCNN`: ``module__n_filters`` (16: filters of the
        first conv block, doubling per block, capped at 8x), ``module__n_blocks``
        (4: conv-batchnorm-ReLU-pool blocks), ``module__kernel_size`` (3, odd),
        ``module__dropout`` (0.3: before the head), ``module__block_dropout``
        (0.0: channel dropout after every conv block, which MC dropout samples
        under cosine scoring at this rate, or at 0.1 where it is 0) and
        ``module__embedding_dim`` (128: the layer before the head). The names
        without ``module__`` are a ``TypeError`` in ``fit``.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the :class:`SpectrogramCNN`.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    objective_ : {"speakers", "binary"}
        The objective used.
    backend_ : {"posterior", "cosine"}
        The scoring used.
    speakers_ : ndarray
        With the speaker objective: the training speakers (network outputs).
    validation_speakers_ : ndarray
        With the speaker objective and ``early_stopping``: the speakers held out
        to validate on (not network outputs).
    speaker_class_ : ndarray of int
        With the speaker objective: index in ``classes_`` of each speaker.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_acc`` and, with early stopping,
        ``valid_loss`` and ``valid_acc``.
    n_features_in_ : int
        Frequency bins of the input.
    n_channels_in_ : int
        Channels of the input.
    verifier_ : EnrollmentVerifier
        With ``backend="cosine"``: the enrolment of the allowed training
        speakers and the calibration of the scores.
    scorer_ : CosineScorer or PosteriorScorer
        How a recording is scored (``skvoice/decisions/_scoring.py``): what
        ``predict_proba``, MC dropout's passes and inspection's gradients all
        go through. It reads the windows' mean embedding (cosine, the same code
        as ``EnrollmentVerifier``) or output log-probabilities (posterior).
    layer_history_ : dict
        With ``track_layers``: epoch -> {parameter name: tensor}; epoch 0 is the
        initialisation.
    pos_label_ : object or None
        The allowed label. None with more than two classes, and with two
        labels that do not say which is allowed (other than 0/1, False/True,
        -1/1) when ``pos_label`` is not given: the network is then a plain
        classifier, ``predict`` returns the most probable label, and
        ``skvoice verify`` refuses to decide with it.
    threshold_ : float
        With two classes, ``predict`` accepts when the log-odds of
        ``pos_label_`` exceed it: 0 without ``target_far``.
    calibration_ : tuple of (float, float) or None
        Slope and intercept mapping the raw score (cosine, or posterior
        log-odds) to log-likelihood ratios, from cross-fitting (None without).
    crossfit_scores_ : ndarray of shape (n_recordings,)
        With cross-fitting: each recording's raw score by the fold model that
        did not see it.
    cohort_scores_ : ndarray of shape (n_cohort_recordings,)
        With ``cohort`` and ``target_far``: the cohort recordings' raw scores by
        the fitted model.
    expected_rates_ : dict
        With ``target_far``: the FAR and FRR at ``threshold_`` on the scores it
        was chosen on (the cross-fitted recordings and the cohort), with their
        numbers of recordings and impostor speakers: what to expect, not a
        measurement on new speakers.
    embedding_mean_ : ndarray of shape (embedding_dim,)
        Mean training embedding (for :meth:`novelty_score`).
    speaker_centroids_ : ndarray of shape (n_speakers, embedding_dim)
        Centred mean embedding of every training speaker (every class without
        ``groups``).
    whitening_ : ndarray of shape (embedding_dim, embedding_dim)
        Cholesky factor of the inverse shared within-speaker covariance.
    novelty_threshold_ : float or None
        With cross-fitting: the 99th percentile of the novelty of the allowed
        speakers' recordings that the fold models held out (new recordings of
        known voices); :meth:`unfamiliar` flags above it. None without.

    Examples
    --------
    >>> import numpy as np
    >>> from skvoice.neural_network import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal((16, 40)).astype(np.float32) + k for k in (0, 1) * 10]
    >>> y = [0, 1] * 10
    >>> clf = CNNClassifier(module__n_filters=4, module__n_blocks=2, crop_frames=16,
    ...                     max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    __metadata_request__fit = {"groups": True}

    _parameter_constraints = {
        # The module__ group (checked when given; the module checks the rest).
        "module__n_filters": [Interval(Integral, 1, None, closed="left")],
        "module__n_blocks": [Interval(Integral, 1, None, closed="left")],
        "module__kernel_size": [Interval(Integral, 1, None, closed="left")],
        "module__dropout": [Interval(Real, 0, 1, closed="left")],
        "module__block_dropout": [Interval(Real, 0, 1, closed="left")],
        "module__embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "crop_frames": [Interval(Integral, 1, None, closed="left")],
        "pretrained": [str, os.PathLike, None],
        "freeze_epochs": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "objective": [StrOptions({"auto", "speakers", "binary"})],
        "backend": [StrOptions({"auto", "posterior", "cosine"})],
        **OPERATING_POINT_CONSTRAINTS,
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "augment": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "device": [str],
        "amp": ["boolean"],
        "checkpoint_dir": [str, os.PathLike, None],
        "track_layers": ["boolean", list],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        crop_frames=128,
        pretrained=None,
        freeze_epochs=0,
        max_epochs=30,
        batch_size=32,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        objective="auto",
        backend="auto",
        pos_label=None,
        target_far=None,
        cv=None,
        cohort=None,
        far_confidence=None,
        class_weight="balanced",
        augment=False,
        early_stopping=False,
        validation_fraction=0.2,
        patience=5,
        callbacks=None,
        device="cpu",
        amp=False,
        checkpoint_dir=None,
        track_layers=False,
        random_state=None,
        verbose=0,
        **module_params,
    ):
        self.crop_frames = crop_frames
        self.pretrained = pretrained
        self.freeze_epochs = freeze_epochs
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.objective = objective
        self.backend = backend
        self.pos_label = pos_label
        self.target_far = target_far
        self.cv = cv
        self.cohort = cohort
        self.far_confidence = far_confidence
        self.class_weight = class_weight
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.callbacks = callbacks
        self.device = device
        self.amp = amp
        self.checkpoint_dir = checkpoint_dir
        self.track_layers = track_layers
        self.random_state = random_state
        self.verbose = verbose
        self._store_module_kwargs(module_params)

    # The torch module the estimator builds; a subclass may name another with the
    # same constructor (as the ablation study does).
    _module_class = SpectrogramCNN
    # How the cosine backend scores: centred embeddings, no score normalisation
    # (s-norm was measured on the real-speech protocol; see the user guide).
    _verifier_params = {"score_norm": None, "center": True}
    # Fold models of the cross-fitting: no cross-fitting of their own, no logs.
    _crossfit_reset = {
        **OperatingPointMixin._crossfit_reset,
        "cohort": None,  # the folds' threshold is not used: no cohort to score
        "track_layers": False,
        "verbose": 0,
    }

    def _build_module(self, n_classes):
        return self._module_class(
            n_bins=self.n_features_in_,
            n_classes=n_classes,
            n_channels=self.n_channels_in_,
            **self._module_params(),
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None):
        """Train the network.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms: ``(n_bins, T_i)`` or ``(C, n_bins, T_i)`` per recording,
            or a dense 3-D/4-D array, or a 2-D ``(n, n_bins)`` array (one frame each).
        y : array-like of shape (n_recordings,)
            Labels (1 allowed, 0 refused; other labels with ``pos_label``; or
            more than two classes).
        groups : array-like of shape (n_recordings,), default=None
            Speaker of each recording: keeps speakers apart in the internal
            validation split of ``early_stopping``.

        Returns
        -------
        self : object
        """
        self.device_ = resolve_device(self.device)
        # An unknown or unprefixed module argument fails before any work.
        self._module_params()
        specs = self._check_X(X, reset=True)
        if self.freeze_epochs and self.pretrained is None:
            raise ValueError("freeze_epochs needs pretrained: there is no trunk to keep.")
        trunk = pretrained_trunk(
            self.pretrained, self._module_params(), self.n_features_in_, self.n_channels_in_
        )
        y, targets = self._check_targets(specs, y, groups)
        seed = seed_from(self.random_state)
        # Per recording, its speaker's name (the verifier enrols from all of them,
        # also those early stopping holds out of the network's outputs below).
        rec_speaker = self.speakers_[targets] if self.objective_ == "speakers" else None
        if self.early_stopping and self.objective_ == "speakers":
            train_valid, targets_fit = self._speaker_datasets(specs, targets, seed)
        else:
            train_valid = self._make_datasets(specs, targets, groups, seed)
            targets_fit = targets
        crit = class_weights(
            self.class_weight, self.classes_, y, targets_fit, self.objective_ == "speakers"
        )
        data = (specs, targets, groups, train_valid)
        n_outputs = int(targets_fit.max()) + 1
        train_net(self, self._build_module, trunk, crit, data, seed, n_outputs, self._set_net)
        self.history_ = self.net_.history
        if self.track_layers is not False:
            self.layer_history_ = dict(self.net_.callbacks_)["layer_recorder"].snapshots_
        self._fit_embedding_statistics(specs, y, rec_speaker)
        speakers = None if groups is None else speaker_columns(groups, len(y))[0]
        self.scorer_ = self._make_scorer()  # the cohort is scored by the fitted model
        self._fit_operating_point(specs, y, speakers, {"groups": speakers})
        # New recordings of known voices: the allowed ones (refused speakers are
        # held out whole, so the fold models never heard them).
        self._fit_novelty_threshold(y == self.pos_label_)
        self.scorer_ = self._make_scorer()  # with the cross-fitted calibration
        return self

    def _set_net(self, net):
        self.net_ = net

    def _cohort_input(self, X_cohort):
        return self._check_X(X_cohort, reset=False)

    def _check_targets(self, specs, y, groups):
        """Set ``classes_``, the objective and the scoring rule; return ``y`` and the targets."""
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(specs):
            raise ValueError(f"X has {len(specs)} recordings but y has {len(y)} labels.")
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}): need allowed and refused "
                "recordings to train."
            )
        self.objective_, targets, speakers = resolve_objective(self.objective, y_enc, groups)
        if speakers is not None:
            self.speakers_, self.speaker_class_ = speakers
        if groups is None and self.objective == "auto" and len(self.classes_) == 2:
            warn_speakers_not_passed(stacklevel=4)  # the caller of fit, above _fit_context
        self.backend_ = resolve_backend(self.backend, self.objective_, len(self.classes_))
        self._check_binary_labels(needed=self.backend_ == "cosine")
        return y, targets

    def _fit_embedding_statistics(self, specs, y, rec_speaker):
        """The cosine enrolment (``verifier_``) and the novelty statistics."""
        embeddings = self._embeddings(specs)
        if self.backend_ == "cosine":
            # Unit-length embeddings, as SpeakerEmbedder gives them: the same
            # enrolment whichever way the network is used.
            self.verifier_ = EnrollmentVerifier(**self._verifier_params).fit(
                unit_rows(embeddings).numpy(),
                (y == self.pos_label_).astype(int),
                groups=rec_speaker,
            )
        self._fit_novelty(embeddings, rec_speaker if rec_speaker is not None else y)

    def _speaker_datasets(self, specs, targets, seed):
        """Crops of the training speakers, and the held-out speakers' EER scoring.

        The held-out speakers leave the network's outputs: ``speakers_`` and
        ``speaker_class_`` then list the training speakers only.
        """
        keep, held, train_idx, valid_idx, targets_fit = split_speakers(
            targets, self.speaker_class_, self.validation_fraction, seed
        )
        self.validation_speakers_ = self.speakers_[held]
        self.speakers_, self.speaker_class_ = self.speakers_[keep], self.speaker_class_[keep]
        train = self._training_crops(specs, train_idx, targets_fit, seed)
        valid_specs = [specs[i] for i in valid_idx]
        scoring = SpeakerVerificationScoring(self._mean_embedding, valid_specs, targets[valid_idx])
        return (train, scoring), targets_fit

    def _embeddings(self, specs):
        """:meth:`_mean_embedding` as a float64 array (what novelty reads)."""
        return self._mean_embedding(specs).double().numpy()

    def _make_scorer(self):
        """The scorer of ``backend_``, with the cross-fitted calibration when there is one.

        The cosine scorer reads unit-length embeddings, as the verifier was fitted
        on them (what :class:`SpeakerEmbedder` gives).
        """
        pos = None if self.pos_label_ is None else self._pos_index
        calibration = getattr(self, "calibration_", None)
        if self.backend_ == "cosine":
            return CosineScorer(self.verifier_, pos, calibration, unit_input=True)
        speaker_class = self.speaker_class_ if self.objective_ == "speakers" else None
        return PosteriorScorer(len(self.classes_), speaker_class, pos, calibration)

    def _features_fn(self):
        """What the scorer reads, per window: the embedding or the outputs' log-probabilities."""
        return window_embeddings if self.scorer_.reads == "embedding" else window_outputs

    def _scored_features(self, specs):
        """Per recording, the windows' mean of what the scorer reads."""
        return self._mean_over_windows(specs, self._features_fn())

    def class_log_odds(self, x, target):
        """Differentiable log-odds of class index ``target``, scored as the model decides.

        For inspection (Grad-CAM, occlusion): the network runs on ``x`` whole (no
        sliding windows) with gradients, and :attr:`scorer_` scores its output:
        the calibrated best cosine to the enrolled allowed speakers under cosine
        scoring (negated for the refused class), the speakers' posteriors summed
        per class under posterior scoring.

        Parameters
        ----------
        x : Tensor of shape (batch, n_channels, n_bins, n_frames)
            Spectrograms on the network's device.
        target : int
            Index into ``classes_``.

        Returns
        -------
        log_odds : Tensor of shape (batch,)
        """
        check_is_fitted(self)
        return self.scorer_.class_log_odds(self._features_fn()(self.trunk, x), target)

    # The scoring helpers below take spectrograms already validated by ``_check_X``
    # (the public methods validate once; cross-fitting passes the validated ones).

    def _raw_allowed_score(self, specs):
        """Uncalibrated score of the allowed class: best cosine, or posterior log-odds."""
        return self.scorer_.score(self._scored_features(specs)).numpy()

    @available_if(knows_allowed_label)
    def score_samples(self, X):
        """Uncalibrated score of the allowed class: best cosine, or posterior log-odds.

        What :class:`~skvoice.decisions.TargetFARClassifierCV` calibrates and
        thresholds; higher means more likely allowed. Only once fitted on two
        labels that say which is allowed (0/1, or with ``pos_label``).

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_recordings,)
        """
        check_is_fitted(self)
        return self._raw_allowed_score(self._check_X(X, reset=False))

    def _allowed_log_odds(self, specs):
        return self.scorer_.allowed_log_odds(self._scored_features(specs)).numpy()

    def predict_log_proba(self, X):
        """Log-probabilities: windows' mean log-probability, renormalised.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_recordings, n_classes)
        """
        check_is_fitted(self)
        specs = self._check_X(X, reset=False)
        return self.scorer_.class_log_proba(self._scored_features(specs)).numpy()

    def predict_proba(self, X):
        """Class probabilities per recording.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_recordings, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Log-odds of ``classes_[1]`` (two classes) or log-probabilities per class.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_recordings,) or (n_recordings, n_classes)
        """
        check_is_fitted(self)
        if len(self.classes_) == 2 and self.pos_label_ is not None:
            log_odds = self._allowed_log_odds(self._check_X(X, reset=False))
            return self._log_odds_of_classes1(log_odds)
        logp = self.predict_log_proba(X)
        return logp[:, 1] - logp[:, 0] if len(self.classes_) == 2 else logp

    def predict(self, X):
        """Class per recording: allowed above ``threshold_`` (two classes), else the most probable.

        Parameters
        ----------
        X : list of ndarray or ndarray
            Spectrograms as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_recordings,)
        """
        check_is_fitted(self)
        if self.pos_label_ is not None:
            return self._decide(self._allowed_log_odds(self._check_X(X, reset=False)))
        # No allowed label (more classes, or labels that do not say which is
        # allowed and no pos_label): a plain classifier.
        logp = self.predict_log_proba(X)
        return self.classes_[np.argmax(logp, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = False
        return tags
