"""Quizzes of notebook 05 (non-local blocks); 05.quiz_block is the lecture's quiz 3 (its code exercises are
05.pairwise_functions, 05.non_local_forward and 05.subsampling).

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_03_05.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choice, Choices, Integer

MODES = ("gaussian", "embedded", "dot", "concatenate")

SOFTMAX_AXIS = quiz(
    "05.quiz_softmax_axis", "The axis of the Gaussian's softmax",
    Question(
        "softmax_dim", Choice("abcd"),
        accepted=("c6abeafeda944222",),
        hints={
            "afb53c0da0329ff4": ("C(x) sums f(x_i, x_j) over the keys j for one query i: the weights that one output"
                                 " y_i averages with must sum to 1, not the weights that one key hands out"),
            "5e1f381d070e6be7": "the videos of a batch never attend to each other: each has its own matrix",
            "d3e9ac96a3924d58": ("one softmax over the whole matrix makes all N M weights sum to 1 together: each "
                                 "query's row then sums to about 1 / N, and the outputs shrink as the clip grows"),
        },
        hint="which index does C(x) sum over, and which axis of the (B, N, M) matrix holds it?"),
)

_ROW_SUMS_HINT_1 = ("dot product and concatenation divide by the number of keys M, not by the row's own sum: a row "
                    "then sums to the mean of f over j, which depends on the input")

ROW_SUMS = quiz(
    "05.quiz_row_sums", "Which weight matrices have rows that sum to 1",
    Question(
        "rows_sum_to_one", Choices(MODES),
        accepted=("588741c4d3929277",),
        hints={
            "c30a7bee7d8e3ebe": _ROW_SUMS_HINT_1,
            "254bd12a772e75aa": ("the ReLU makes concatenation weights non-negative, but dividing them by M does not "
                                 "make a row sum to 1"),
            "9b0f015c4b047da7": "the Gaussian is normalised the same way as the embedded Gaussian, on x itself",
            "9f91f5f33403d91e": "those two are the ones normalised by a count; the other two by the row's own sum",
        },
        hint="for which pairwise functions is C(x) the sum of the row's own f?"),
)

BLOCK = quiz(
    "05.quiz_block", "The parts of a non-local block (the lecture's quiz 3)",
    Question(
        "learned_embeddings", Choices(MODES),
        accepted=("ebeb77521c8914fd",),
        hints={
            "89e4c371b4896ab7": "the Gaussian compares x_i and x_j directly, e^(x_i^T x_j): it has no theta or phi",
            "7855aad01796be75": "dot product and concatenation also compare theta(x_i) with phi(x_j)",
            "8be504781e3edcf8": "concatenation concatenates theta(x_i) and phi(x_j) before w_f projects them",
        },
        hint="read f in the table of section 1: which versions use theta and phi?"),
    Question(
        "y_channels", Integer(),
        accepted=("ed78baea1a4202f7",),
        hints={
            "ff38498d6174c86d": ("y = (f / C) g(x), and g has C' = C / 2 output channels; W_z is what brings y back "
                                 "to the C channels of x"),
            "ae398282ecc0812e": "f gives one number per pair (i, j), but y_i is a weighted sum of the vectors g(x_j)",
        },
        hint="y_i is a weighted sum of the vectors g(x_j): how many channels does g output?"),
)

_GRADIENT_HINT_ALL = ("everything before the BatchNorm gets its gradient multiplied by the BatchNorm's weight, which "
                      "is 0 at the start")

NEW_BLOCK = quiz(
    "05.quiz_new_block", "What a new non-local block does",
    Question(
        "new_block_output", Choice("abcd"),
        accepted=("88f6aaf54f94a216",),
        hints={
            "15bbbd1e4925745b": "z = W_z(y) + x: the residual connection adds the input back",
            "ddbcb27858245627": ("W_z ends with a BatchNorm whose weight and bias start at 0, so W_z(y) is exactly 0 "
                                 "whatever y the random theta, phi and g produce"),
            "519c4fb7a36d9bfb": "the block returns z = W_z(y) + x, with the C channels of x; y is internal",
        },
        hint="z = W_z(y) + x; what does W_z output when it is new?"),
    Question(
        "nonzero_gradients", Choices(("g", "theta", "phi", "w_z_conv", "w_z_bn")),
        accepted=("379cd2f2c21a2df0",),
        hints={
            "37167123625d4c1e": _GRADIENT_HINT_ALL,
            "95097b2dae415be4": ("z = gamma * n + beta + x, where n is the normalised output of W_z's convolution: "
                                 "dz/dgamma = n and dz/dbeta = 1 do not contain gamma"),
            "711026cd7f78235b": ("the convolution of W_z sits before the BatchNorm: its gradient is multiplied by "
                                 "gamma = 0"),
        },
        hint=("z = gamma * n + beta + x with gamma = beta = 0: which parameters does z depend on without a factor "
              "gamma?")),
)

KEYS = quiz(
    "05.quiz_keys", "Queries and keys after sub-sampling",
    Question(
        "num_queries", Integer(),
        accepted=("02c54b438b02136c",),
        hints={
            "f410f9fa3beca326": ("the queries theta are never pooled: every position i needs its own y_i, so that z "
                                 "keeps the shape of x"),
        },
        hint="one query per position of x: N = T H W"),
    Question(
        "num_keys", Integer(),
        accepted=("dfe84fd8139c79b8",),
        hints={
            "2a856abf96d756ad": "with sub_sample=True the keys phi (and the values g) are max-pooled before the "
                                "affinities",
            "f08ed75f90ca7a6a": "MaxPool3d((1, 2, 2)) leaves time alone: only the height and the width are halved",
            "da103f86e3456374": "the (1, 2, 2) pool halves both the height and the width",
            "b2f6090d7e131444": "the keys still come from all T frames: the pool's time kernel is 1",
        },
        hint="count the positions of phi(x) after MaxPool3d((1, 2, 2))"),
)

EXERCISES = (SOFTMAX_AXIS, ROW_SUMS, BLOCK, NEW_BLOCK, KEYS)
