from jaraba_tui.cli import main

raise SystemExit(main())
