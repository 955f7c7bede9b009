"""Official documents: jinja2 templates rendered to PDF with fpdf2."""
