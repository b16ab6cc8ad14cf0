"""Published results to compare against (authors' numbers, transcribed; see REFERENCE.md section 6)."""
from __future__ import annotations

# Seed 000 ("Verifying Machine Unlearning with Explainable AI"), Table 1: LTD, unlearn humans.
# AS is measured against Original, so Original has none.
LTD_TABLE1: dict[str, dict[str, float | None]] = {
    "original": {"MAE": 2.0430, "RMSE": 3.3170, "r-HC": 3.903e-3, "h-HC": 3.977e-3, "AS": None},
    "retrain":  {"MAE": 0.5531, "RMSE": 0.8877, "r-HC": 3.299e-3, "h-HC": 1.223e-3, "AS": 2.085e-5},
    "finetune": {"MAE": 0.6112, "RMSE": 0.9522, "r-HC": 6.827e-3, "h-HC": 2.802e-3, "AS": 1.426e-5},
    "prune":    {"MAE": 0.6128, "RMSE": 0.9526, "r-HC": 6.434e-3, "h-HC": 2.511e-3, "AS": 1.391e-5},
    "reinit":   {"MAE": 0.5693, "RMSE": 0.9090, "r-HC": 5.464e-3, "h-HC": 2.214e-3, "AS": 1.486e-5},
    "confuse":  {"MAE": 0.5866, "RMSE": 0.9327, "r-HC": 7.632e-3, "h-HC": 1.989e-3, "AS": 1.492e-5},
}

# Seed 001 (UTKFace thesis), forget ages 20-28, as summarised in REFERENCE.md section 6. Fine-tune is the
# 8-epoch model, random labels the 2-epoch one. F matches Table 8 below; these MAE values do not appear in
# the thesis text (its Table 5 gives other test MAEs, see UTK_THESIS_TABLE5_MAE).
UTK_THESIS: dict[str, dict[str, float]] = {
    "original":      {"MAE": 5.68, "F": 0.86},
    "finetune":      {"MAE": 5.86, "F": 0.94},
    "random_labels": {"MAE": 9.71, "F": 0.49},
}

# Seed 001, section 4.6, Table 8: Utility, Forgetting (alpha = 15) and F for each forget group (years,
# as written in the thesis; keys match params data.utk.forget_groups). Original trained on all data;
# finetune = 8 epochs, random_labels = 2 epochs on the retain set of that group.
UTK_THESIS_TABLE8: dict[tuple[int, int], dict[str, dict[str, float]]] = {
    (20, 28): {"original":      {"Utility": 1.28, "Forgetting": 0.67, "F": 0.86},
               "finetune":      {"Utility": 1.21, "Forgetting": 0.78, "F": 0.94},
               "random_labels": {"Utility": 0.75, "Forgetting": 0.65, "F": 0.49}},
    (28, 36): {"original":      {"Utility": 1.02, "Forgetting": 0.79, "F": 0.81},
               "finetune":      {"Utility": 1.04, "Forgetting": 0.80, "F": 0.83},
               "random_labels": {"Utility": 0.79, "Forgetting": 0.78, "F": 0.61}},
    (36, 44): {"original":      {"Utility": 1.01, "Forgetting": 0.79, "F": 0.80},
               "finetune":      {"Utility": 1.03, "Forgetting": 0.81, "F": 0.83},
               "random_labels": {"Utility": 0.95, "Forgetting": 0.76, "F": 0.72}},
    (44, 52): {"original":      {"Utility": 1.04, "Forgetting": 0.73, "F": 0.76},
               "finetune":      {"Utility": 1.05, "Forgetting": 0.74, "F": 0.77},
               "random_labels": {"Utility": 0.95, "Forgetting": 0.70, "F": 0.67}},
    (52, 60): {"original":      {"Utility": 1.14, "Forgetting": 0.53, "F": 0.60},
               "finetune":      {"Utility": 1.13, "Forgetting": 0.59, "F": 0.67},
               "random_labels": {"Utility": 1.16, "Forgetting": 0.54, "F": 0.63}},
}

# Seed 001, section 4.5.1, Table 5: test-set MAE (years) by training epochs, forget group 20-28.
# Utility in Tables 4 and 8 is retrain / model from these (6.17 / 4.81 = 1.28).
UTK_THESIS_TABLE5_MAE: dict[str, dict[int, float]] = {
    "original":      {142: 4.81},
    "retrain":       {102: 6.17},
    "finetune":      {2: 4.93, 4: 4.96, 8: 5.09, 16: 5.21},
    "random_labels": {2: 8.2, 4: 15.09, 8: 14.3, 16: 13.59},
}

# Seed 001 (thesis, REFERENCE section 11), Table 3: Forgetting by its alpha (the sweep "alpha"); every value the mean
# of 3 runs, forget ages 20-28.
UTK_THESIS_TABLE3: dict[int, dict[str, float]] = {
    2: {"original": 0.21, "finetune": 0.26, "random_labels": 0.14},
    5: {"original": 0.38, "finetune": 0.51, "random_labels": 0.23},
    10: {"original": 0.60, "finetune": 0.69, "random_labels": 0.41},
    15: {"original": 0.70, "finetune": 0.78, "random_labels": 0.50},
    20: {"original": 0.76, "finetune": 0.83, "random_labels": 0.57},
    25: {"original": 0.80, "finetune": 0.86, "random_labels": 0.63},
    30: {"original": 0.83, "finetune": 0.88, "random_labels": 0.67},
    35: {"original": 0.85, "finetune": 0.89, "random_labels": 0.71},
}
# Seed 001, Tables 4, 6 and 7: Utility, Forgetting and F by unlearning epochs (the sweep "epochs"; MAE: Table 5 above),
# forget ages 20-28.
UTK_THESIS_TABLES_4_6_7: dict[int, dict[str, dict[str, float]]] = {
    2: {"finetune": {"Utility": 1.25, "Forgetting": 0.75, "F": 0.93},
        "random_labels": {"Utility": 0.75, "Forgetting": 0.65, "F": 0.49}},
    4: {"finetune": {"Utility": 1.24, "Forgetting": 0.75, "F": 0.94},
        "random_labels": {"Utility": 0.41, "Forgetting": 0.249, "F": 0.10}},
    8: {"finetune": {"Utility": 1.21, "Forgetting": 0.78, "F": 0.95},
        "random_labels": {"Utility": 0.43, "Forgetting": 0.242, "F": 0.10}},
    16: {"finetune": {"Utility": 1.18, "Forgetting": 0.79, "F": 0.94},
         "random_labels": {"Utility": 0.45, "Forgetting": 0.246, "F": 0.11}},
}
# The Original (142 epochs) beside Tables 4-7.
UTK_THESIS_TABLES_4_7_ORIGINAL: dict[str, float] = {"Utility": 1.28, "Forgetting": 0.672, "F": 0.86, "MAE": 4.81}

# NeurIPS 2023 Machine Unlearning Challenge starting kit (CIFAR-10, ResNet-18, 10 % random forget set):
# accuracy of the loss-based membership attack, forget vs test (ideal 0.5).
CHALLENGE_MIA: dict[str, float] = {"original": 0.579, "finetune": 0.512, "retrain": 0.502}


def _ltd_table1(task) -> str:
    from stages.core.tables import markdown_table

    return ("Seed 000, Table 1 (ResNet-50-D, 288x384, real LTD, unlearn humans):\n\n"
            + markdown_table(LTD_TABLE1, ["MAE", "RMSE", "r-HC", "h-HC", "AS"]))


def _utk_thesis(task) -> str:
    from stages.core.tables import markdown_table

    text = ("Seed 001 (thesis), forget ages 20-28, as summarised in REFERENCE section 6:\n\n"
            + markdown_table(UTK_THESIS, ["MAE", "F"]))
    key = tuple(task.request().get("interval", ()))
    if key in UTK_THESIS_TABLE8:
        text += (f"\n\nSeed 001, Table 8, forget group {key[0]}-{key[1]}:\n\n"
                 + markdown_table(UTK_THESIS_TABLE8[key], ["Utility", "Forgetting", "F"]))
    return text


# Seed 003, Table 1 (ResNet fine-tuned on the retain set = MU, with IMU's gradient scaling = IMU; random 10 % forget
# set; SGD lr 0.1): membership attack (forget vs test, ideal 0.5) and completeness. Rows: method (our name), dataset.
SEED003_TABLE1: dict[str, dict[str, float]] = {
    "finetune (MU), MNIST": {"MIA": 0.545, "completeness": 0.998},
    "imu (IMU), MNIST": {"MIA": 0.545, "completeness": 0.995},
    "finetune (MU), CIFAR-10": {"MIA": 0.503, "completeness": 0.832},
    "imu (IMU), CIFAR-10": {"MIA": 0.513, "completeness": 0.849},
    "finetune (MU), RESISC-45": {"MIA": 0.532, "completeness": 0.817},
    "imu (IMU), RESISC-45": {"MIA": 0.536, "completeness": 0.813},
    "finetune (MU), HAM-10000": {"MIA": 0.640, "completeness": 0.781},
    "imu (IMU), HAM-10000": {"MIA": 0.640, "completeness": 0.760},
}
# Seed 003 Table 2 (multi-agent systems, random 10 % forget set; REFERENCE section 8): MIA and completeness.
SEED003_TABLE2: dict[str, dict[str, float]] = {
    "MALMU (LSTM), MNIST": {"MIA": 0.545, "completeness": 0.756},
    "MASMU (GRU), MNIST": {"MIA": 0.545, "completeness": 0.729},
    "MALIMU (LSTM), MNIST": {"MIA": 0.545, "completeness": 0.770},
    "MASIMU (GRU), MNIST": {"MIA": 0.545, "completeness": 0.732},
    "MALMU (LSTM), CIFAR-10": {"MIA": 0.498, "completeness": 0.645},
    "MASMU (GRU), CIFAR-10": {"MIA": 0.501, "completeness": 0.647},
    "MALIMU (LSTM), CIFAR-10": {"MIA": 0.498, "completeness": 0.648},
    "MASIMU (GRU), CIFAR-10": {"MIA": 0.501, "completeness": 0.636},
}
# Seed 004 (CIFAR-10, ResNet, fine-tune unlearning, loss-based attack), the figures of REFERENCE section 8. TA in %
# as published; MIA_vs_all_test = forget class vs the whole test set, MIA = vs test rows of the same class.
SEED004: dict[str, dict[str, float | None]] = {
    "original, CIFAR-10 (class)": {"TA": 0.880, "MIA_vs_all_test": None, "MIA": None},
    "finetune, CIFAR-10 (class)": {"TA": 0.841, "MIA_vs_all_test": 0.95, "MIA": None},
    "anchored, CIFAR-10 (class)": {"TA": 0.858, "MIA_vs_all_test": None, "MIA": None},
    "finetune, CIFAR-10 (random)": {"TA": None, "MIA_vs_all_test": 0.51, "MIA": 0.51},
}


def _seed003(task) -> str:
    from stages.core.tables import markdown_table

    return ("Seed 003, Table 1 (random 10 % forget set; their datasets, not these digits):\n\n"
            + markdown_table(SEED003_TABLE1, ["MIA", "completeness"]))


def _seed004(task) -> str:
    from stages.core.tables import markdown_table

    return ("Seed 004 (CIFAR-10, forget one class 'automobile' or a random set; fine-tune unlearning). Against test "
            "rows of the same class, the forget and test losses are 'indistinguishable' (no number published); "
            "'-' = not published:\n\n"
            + markdown_table(SEED004, ["TA", "MIA_vs_all_test", "MIA"]) + "\n\n" + _seed003(task))


def seed003_table2(task=None) -> str:
    from stages.core.tables import markdown_table

    return ("Seed 003, Table 2 (multi-agent systems on MNIST and CIFAR-10, random 10 % forget set; their data, not "
            "these digits):\n\n" + markdown_table(SEED003_TABLE2, ["MIA", "completeness"]))


# Task.PUBLISHED -> the published tables shown beside a task's results in table.md
SECTIONS = {"ltd_table1": _ltd_table1, "utk_thesis": _utk_thesis, "seed003_table1": _seed003, "seed004": _seed004,
            "seed003_table2": seed003_table2}


def section(task) -> str:
    key = getattr(task, "PUBLISHED", None)
    return SECTIONS[key](task) if key else ""
