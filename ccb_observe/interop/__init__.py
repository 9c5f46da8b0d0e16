"""Import from and export to other SLO tools: Sloth, OpenSLO."""
