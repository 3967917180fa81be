"""What the OpenAPI schema cannot guess by itself, said once for every viewset.

Most viewsets are scoped (their queryset needs the request's user), so drf-spectacular
cannot read an id's type from the model, and plain ``ViewSet``s that answer dicts built by
selectors have no serializer to describe. Rather than annotate each one, ``describe`` gives
every numeric-id route ``[0-9]+`` (a non-numeric id is a 404 at routing, and the schema says
``integer``) and gives serializer-less viewsets an explicit JSON-object body and answer with
an operation id of their own. ``manage.py check --deploy`` stays free of schema warnings.
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.routers import BaseRouter

STANDARD_ACTIONS = ("list", "create", "retrieve", "update", "partial_update", "destroy")


def describe(router: BaseRouter) -> None:
    for _prefix, viewset, basename in router.registry:
        if getattr(viewset, "lookup_field", "pk") in ("pk", "id") and \
                not getattr(viewset, "lookup_value_regex", None):
            viewset.lookup_value_regex = "[0-9]+"
        if getattr(viewset, "serializer_class", None) is not None or \
                issubclass(viewset, viewsets.GenericViewSet) and \
                getattr(viewset, "get_serializer_class", None) is not \
                viewsets.GenericViewSet.get_serializer_class:
            continue
        names = [a for a in STANDARD_ACTIONS if hasattr(viewset, a)]
        names += [action.__name__ for action in viewset.get_extra_actions()]
        extend_schema_view(**{
            name: extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT,
                                operation_id=f"{basename.replace('-', '_')}_{name}")
            for name in names})(viewset)
