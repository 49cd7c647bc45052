"""Metadata routing of the uncertainty wrappers: ``fit`` parameters reach the network."""

from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)

from ..neural_network import CNNClassifier

__all__ = ["RoutingMixin"]


class RoutingMixin:
    """Route ``fit`` keyword arguments to the wrapped estimator.

    With scikit-learn's metadata routing on, a parameter such as ``groups`` reaches
    the wrapped network when the network requested it (``CNNClassifier`` requests
    ``groups`` by default), so ``GridSearchCV(wrapper, cv=...).fit(X, y,
    groups=speakers)`` gives the speakers to the splitter and to the network at
    once. With routing off, every keyword is passed through as before.
    """

    def _default_estimator(self):

        return CNNClassifier() if self.estimator is None else self.estimator

    def _fit_params_for_estimator(self, fit_params):
        if not _routing_enabled():
            from sklearn.utils.validation import has_fit_parameter

            if "groups" in fit_params and not has_fit_parameter(
                self._default_estimator(), "groups"
            ):
                # The speakers serve the wrapper's own cross-fitting
                # (target_far); an estimator whose fit takes no groups never
                # sees them.
                return {k: v for k, v in fit_params.items() if k != "groups"}
            return fit_params
        return process_routing(self, "fit", **fit_params).estimator.fit

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``fit`` of this estimator is routed to ``fit`` of the wrapped one.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self._default_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )
