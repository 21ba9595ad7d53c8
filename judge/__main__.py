"""`python -m judge ...` is `judge ...`; multi-GPU training launches it this way:

    accelerate launch --config_file MULTI_GPU.yaml -m judge train orpo --recipe llama-3.2-1b-gpu
"""

from judge.cli.main import main

if __name__ == "__main__":
    main()
