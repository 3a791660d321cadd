"""Attachments: the file store, uploads and safe downloads."""
