"""Psychiatric case review: review sessions, consultation notes and recommendations.

Built by the consultation-workflow issue; the app exists now so the schema has its place.
"""
