"""Citizen surveys: definitions (content/surveys/*.yaml), results, the `troly survey` verbs.

The chat flow is handlers/survey.py; the tables and queries are storage/surveys.py.
"""
