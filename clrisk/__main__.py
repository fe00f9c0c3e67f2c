from clrisk.cli import main

raise SystemExit(main())
