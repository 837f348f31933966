"""The HTTP API: views, serializers, DRF permissions and request decorators."""
