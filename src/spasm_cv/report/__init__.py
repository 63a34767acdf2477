"""From events to numbers and pages for people: summaries (pure) and reports."""
