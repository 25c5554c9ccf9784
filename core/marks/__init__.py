"""Responsible-use marks: Content Credentials, an invisible watermark, a visible label."""
