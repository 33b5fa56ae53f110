"""Shared mechanics that depend on no app: any app may import them, they import no app."""
