"""The operating point's parameter texts, shared by the docstrings of the estimators that have one.

An estimator's docstring holds a ``%(crossfit_params)s`` line where the texts of
``cv``, ``cohort`` and ``far_confidence`` go; :func:`fill_doc` fills it when
the class is defined, so the four estimators say the same thing in one place.
"""

__all__ = ["CROSSFIT_PARAMS_DOC", "fill_doc"]

#: ``cv``, ``cohort`` and ``far_confidence``: the same for every estimator.
CROSSFIT_PARAMS_DOC = """\
    cv : int, cross-validation generator, iterable or None, default=None
        Folds of the cross-fitting that chooses ``threshold_`` and calibrates
        the scores (on scores of impostors the fold's model never heard, rather
        than of training speakers). The calibration gives log-likelihood ratios
        (a logistic regression with both classes weighted equally, as speaker
        recognition calibrates), so ``predict_proba`` is then the probability
        of being allowed at even prior odds, whatever the share of allowed
        recordings in training. None: no cross-fitting without ``target_far``,
        ``min(5, n_refused_speakers)`` folds with it. Costs one extra fit per
        fold.
        An integer gives that many folds of speaker cross-fitting (refused
        speakers held out whole, allowed speakers' recordings spread); a
        splitter (e.g. :class:`~skvoice.model_selection.OpenSetGroupKFold`) or
        an iterable of (train, test) indices is used as given, with ``y`` as 1
        (allowed) / 0 (refused) and the speakers as ``groups``; each recording
        must be in one test fold.
    cohort : tuple (X_cohort, speakers) or None, default=None
        Recordings of people who are not users (their inputs as ``fit`` takes
        them: embeddings for an enrolment), and the speaker of each. With
        cross-fitting (``target_far`` or ``cv``) the fitted model scores them,
        and they join the cross-fitted refused speakers in the calibration and
        in the choice of the threshold: many voices never heard tell better than
        a few refused ones where impostors score (without cross-fitting it is
        not used). Not stored in a saved model.
    far_confidence : float in (0, 1) or None, default=None
        With ``target_far``: place the threshold so that an upper bound of the
        FAR, at this confidence, stays at the target (a bootstrap over the
        impostor speakers). Costs false rejections; None: the FAR observed on
        those impostors is the target.
"""


def fill_doc(**snippets):
    """Class decorator: replace each ``%(name)s`` line of the docstring by ``snippets[name]``.

    A placeholder stands alone on its line, indented by four spaces, as a
    parameter entry would be; a placeholder left unfilled is an error.
    """

    def decorate(cls):
        doc = cls.__doc__
        for name, text in snippets.items():
            line = f"    %({name})s\n"
            if line not in doc:
                raise ValueError(f"{cls.__name__}'s docstring has no %({name})s line.")
            doc = doc.replace(line, text)
        cls.__doc__ = doc
        return cls

    return decorate
