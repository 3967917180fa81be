"""API of the cases app (viewsets registered on the shared router)."""
from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the router."""
