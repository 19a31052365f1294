from k8saudit.cli import main

raise SystemExit(main())
