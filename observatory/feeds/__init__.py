"""Feeds for people who follow releases (Atom 1.0 and JSON Feed 1.1): tracked releases, per
organisation, and threshold events. Built with django.contrib.syndication; entry ids are tag:
URIs (tags.py) that depend only on what the entry is about, never on database keys."""
