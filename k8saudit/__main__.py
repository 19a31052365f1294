from k8saudit.cli import run

run()
