"""Case actions written as data: deadlines, notices and mass changes."""
