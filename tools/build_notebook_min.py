import nbformat as nbf
nb = nbf.v4.new_notebook()
nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}, "language_info": {"name": "python"}}
p = nbf.v4.new_code_cell('environment = "demo"  # demo | staging | production\nwindow_minutes = 60  # minutes\nsince = ""  # ISO start\nuntil = ""  # ISO end\nwi_id = ""  # WI')
p.metadata["tags"] = ["parameters"]
nb.cells = [nbf.v4.new_markdown_cell("# test"), p,
  nbf.v4.new_code_cell('from opslib import page\nbook = page.open_page("payments", environment=environment, since=since, until=until, window_minutes=window_minutes, wi_id=wi_id)'),
  nbf.v4.new_code_cell('book.finish()')]
nbf.write(nb, "/tmp/min.ipynb")
