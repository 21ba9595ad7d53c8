"""`python -m train ...` is `judge train ...`, with the same one-line errors and exit codes.

    python -m train orpo --recipe recipes/smollm2-cpu.yaml
    accelerate launch --config_file recipes/accelerate/multi_gpu.yaml -m train orpo --recipe R.yaml
"""

import sys

from judge.cli import main

if __name__ == "__main__":
    sys.argv = ["judge", "train", *sys.argv[1:]]
    main()
