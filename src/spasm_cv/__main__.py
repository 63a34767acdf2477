from spasm_cv.cli import main

raise SystemExit(main())
