"""The marketer's view: one self-contained HTML progress report (English and Vietnamese) per run."""
