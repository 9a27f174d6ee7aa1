import sys

from advopt.cli import main

sys.exit(main())
