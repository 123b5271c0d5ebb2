"""`python -m app.web`: the same as `essaycoach serve`, without loading the other commands (a faster start)."""

from ..commands.serve import serve

serve(prog_name="python -m app.web")
