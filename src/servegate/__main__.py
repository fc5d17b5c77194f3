from servegate.cli import run

run()
