"""Static tables of the TRL config fields ``[train.args]`` may set, with their types.

Kept here so that ``facttune validate`` checks ``[train.args]`` (names and types) without importing
TRL (a 10+ s import). A type is ``bool``, ``int``, ``float``, ``str`` or ``list[str]``, with ``?``
when None is allowed; ``any`` is left to TRL. Regenerate with ``python -m facttune_trl.trl_fields``;
``tests/test_trl.py::test_static_field_tables_match_installed_trl`` checks them against the installed TRL.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any


def field_kind(tp: Any) -> str:
    """A dataclass field's annotation as one of this module's type names."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        rest = [a for a in rest if not (isinstance(a, type) and issubclass(a, enum.Enum))] or rest
        k = field_kind(rest[0]) if len(rest) == 1 else "any"
        return k + "?" if type(None) in args and k != "any" else k
    if tp in (bool, int, float, str):
        return str(tp.__name__)
    if typing.get_origin(tp) is list and args == (str,):
        return "list[str]"
    return "any"


def field_table(cls: Any) -> dict[str, str]:
    """name → type name of a TRL config dataclass's init fields."""
    import dataclasses

    hints = typing.get_type_hints(cls)
    return {f.name: field_kind(hints[f.name]) for f in dataclasses.fields(cls) if f.init}


def type_problem(value: Any, kind: str) -> str | None:
    """Why ``value`` cannot be a field of type ``kind`` (None when it can)."""
    if kind == "any" or (kind.endswith("?") and value is None):
        return None
    base = kind.rstrip("?")
    ok = {"bool": lambda v: isinstance(v, bool),
          "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          "str": lambda v: isinstance(v, str),
          # TRL turns one string into a one-item list (loss_type = "ipo")
          "list[str]": lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))}[base]
    if ok(value):
        return None
    word = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "a string",
            "list[str]": "a string or a list of strings"}[base]
    return f"must be {word}{' (or left out)' if kind.endswith('?') else ''}, got {value!r}"


TRL_VERSION = "1.16.0"

DPO_CONFIG_TYPES: dict[str, str] = {
    'accelerator_config': 'any', 'activation_checkpointing': 'bool?',
    'activation_checkpointing_kwargs': 'any', 'activation_offloading': 'bool', 'adam_beta1': 'float',
    'adam_beta2': 'float', 'adam_epsilon': 'float', 'auto_find_batch_size': 'bool',
    'average_tokens_across_devices': 'bool', 'batch_eval_metrics': 'bool', 'beta': 'float', 'bf16': 'bool?',
    'bf16_full_eval': 'bool', 'data_seed': 'int?', 'dataloader_drop_last': 'bool',
    'dataloader_in_order': 'bool', 'dataloader_multiprocessing_context': 'str?',
    'dataloader_num_workers': 'int', 'dataloader_persistent_workers': 'bool', 'dataloader_pin_memory': 'bool',
    'dataloader_prefetch_factor': 'int?', 'dataset_num_proc': 'int?', 'ddp_backend': 'str?',
    'ddp_broadcast_buffers': 'bool?', 'ddp_bucket_cap_mb': 'int?', 'ddp_find_unused_parameters': 'bool?',
    'ddp_static_graph': 'bool?', 'ddp_timeout': 'int', 'debug': 'any', 'deepspeed': 'any',
    'disable_dropout': 'bool', 'disable_tqdm': 'bool?', 'discopop_tau': 'float', 'do_eval': 'bool',
    'do_predict': 'bool', 'do_train': 'bool', 'enable_jit_checkpoint': 'bool',
    'eval_accumulation_steps': 'int?', 'eval_delay': 'float', 'eval_do_concat_batches': 'bool',
    'eval_on_start': 'bool', 'eval_steps': 'float?', 'eval_strategy': 'str', 'eval_use_gather_object': 'bool',
    'f_alpha_divergence_coef': 'float', 'f_divergence_type': 'str', 'fp16': 'bool', 'fp16_full_eval': 'bool',
    'fsdp': 'str?', 'fsdp_config': 'any', 'full_determinism': 'bool', 'gradient_accumulation_steps': 'int',
    'gradient_checkpointing': 'bool', 'gradient_checkpointing_kwargs': 'any', 'greater_is_better': 'bool?',
    'hub_always_push': 'bool', 'hub_model_id': 'str?', 'hub_private_repo': 'bool?', 'hub_revision': 'str?',
    'hub_strategy': 'str', 'hub_token': 'str?', 'ignore_data_skip': 'bool',
    'include_for_metrics': 'list[str]', 'include_num_input_tokens_seen': 'any', 'label_names': 'list[str]?',
    'label_smoothing': 'float', 'label_smoothing_factor': 'float', 'ld_alpha': 'float?',
    'learning_rate': 'float', 'length_column_name': 'str', 'liger_kernel_config': 'any',
    'load_best_model_at_end': 'bool', 'local_rank': 'int', 'log_level': 'str', 'log_level_replica': 'str',
    'log_on_each_node': 'bool', 'logging_first_step': 'bool', 'logging_nan_inf_filter': 'bool',
    'logging_steps': 'float', 'logging_strategy': 'str', 'loss_type': 'list[str]', 'loss_weights': 'any',
    'lr_scheduler_kwargs': 'any', 'lr_scheduler_type': 'str', 'max_grad_norm': 'float', 'max_length': 'int?',
    'max_steps': 'int', 'metric_for_best_model': 'str?', 'model_init_kwargs': 'any',
    'neftune_noise_alpha': 'float?', 'num_train_epochs': 'float', 'optim': 'str', 'optim_args': 'str?',
    'optim_target_modules': 'any', 'output_dir': 'str?', 'pad_to_multiple_of': 'any', 'pad_token': 'str?',
    'padding_free': 'bool', 'parallelism_config': 'any', 'per_device_eval_batch_size': 'int',
    'per_device_train_batch_size': 'int', 'precompute_ref_batch_size': 'int?',
    'precompute_ref_log_probs': 'bool', 'prediction_loss_only': 'bool', 'project': 'str',
    'push_to_hub': 'bool', 'ref_model_mixup_alpha': 'float', 'ref_model_sync_steps': 'int',
    'remove_unused_columns': 'bool', 'report_to': 'any', 'restore_callback_states_from_checkpoint': 'bool',
    'resume_from_checkpoint': 'str?', 'router_aux_loss_coef': 'float?', 'run_name': 'str?',
    'save_on_each_node': 'bool', 'save_only_model': 'bool', 'save_steps': 'float', 'save_strategy': 'str',
    'save_total_limit': 'int?', 'seed': 'int', 'skip_memory_metrics': 'bool', 'sync_ref_model': 'bool',
    'tf32': 'bool?', 'torch_compile': 'bool', 'torch_compile_backend': 'str?', 'torch_compile_mode': 'str?',
    'torch_empty_cache_steps': 'int?', 'trackio_bucket_id': 'str?', 'trackio_space_id': 'str?',
    'trackio_static_space_id': 'any', 'train_sampling_strategy': 'str', 'truncation_mode': 'str',
    'trust_remote_code': 'bool', 'use_cache': 'bool', 'use_cpu': 'bool', 'use_liger_kernel': 'bool',
    'use_weighting': 'bool', 'warmup_steps': 'float', 'weight_decay': 'float',
}

SFT_CONFIG_TYPES: dict[str, str] = {
    'accelerator_config': 'any', 'activation_checkpointing': 'bool?',
    'activation_checkpointing_kwargs': 'any', 'activation_offloading': 'bool', 'adam_beta1': 'float',
    'adam_beta2': 'float', 'adam_epsilon': 'float', 'assistant_only_loss': 'bool',
    'auto_find_batch_size': 'bool', 'average_tokens_across_devices': 'bool', 'batch_eval_metrics': 'bool',
    'bf16': 'bool?', 'bf16_full_eval': 'bool', 'chat_template_path': 'str?', 'completion_only_loss': 'bool?',
    'data_seed': 'int?', 'dataloader_drop_last': 'bool', 'dataloader_in_order': 'bool',
    'dataloader_multiprocessing_context': 'str?', 'dataloader_num_workers': 'int',
    'dataloader_persistent_workers': 'bool', 'dataloader_pin_memory': 'bool',
    'dataloader_prefetch_factor': 'int?', 'dataset_kwargs': 'any', 'dataset_num_proc': 'int?',
    'dataset_text_field': 'str', 'ddp_backend': 'str?', 'ddp_broadcast_buffers': 'bool?',
    'ddp_bucket_cap_mb': 'int?', 'ddp_find_unused_parameters': 'bool?', 'ddp_static_graph': 'bool?',
    'ddp_timeout': 'int', 'debug': 'any', 'deepspeed': 'any', 'disable_tqdm': 'bool?', 'do_eval': 'bool',
    'do_predict': 'bool', 'do_train': 'bool', 'enable_jit_checkpoint': 'bool', 'eos_token': 'str?',
    'eval_accumulation_steps': 'int?', 'eval_delay': 'float', 'eval_do_concat_batches': 'bool',
    'eval_on_start': 'bool', 'eval_packing': 'bool?', 'eval_steps': 'float?', 'eval_strategy': 'str',
    'eval_use_gather_object': 'bool', 'fp16': 'bool', 'fp16_full_eval': 'bool', 'fsdp': 'str?',
    'fsdp_config': 'any', 'full_determinism': 'bool', 'gradient_accumulation_steps': 'int',
    'gradient_checkpointing': 'bool', 'gradient_checkpointing_kwargs': 'any', 'greater_is_better': 'bool?',
    'hub_always_push': 'bool', 'hub_model_id': 'str?', 'hub_private_repo': 'bool?', 'hub_revision': 'str?',
    'hub_strategy': 'str', 'hub_token': 'str?', 'ignore_data_skip': 'bool',
    'include_for_metrics': 'list[str]', 'include_num_input_tokens_seen': 'any', 'label_names': 'list[str]?',
    'label_smoothing_factor': 'float', 'learning_rate': 'float', 'length_column_name': 'str',
    'liger_kernel_config': 'any', 'load_best_model_at_end': 'bool', 'local_rank': 'int', 'log_level': 'str',
    'log_level_replica': 'str', 'log_on_each_node': 'bool', 'logging_first_step': 'bool',
    'logging_nan_inf_filter': 'bool', 'logging_steps': 'float', 'logging_strategy': 'str', 'loss_type': 'str',
    'lr_scheduler_kwargs': 'any', 'lr_scheduler_type': 'str', 'max_grad_norm': 'float', 'max_length': 'int?',
    'max_steps': 'int', 'metric_for_best_model': 'str?', 'model_init_kwargs': 'any',
    'neftune_noise_alpha': 'float?', 'num_train_epochs': 'float', 'optim': 'str', 'optim_args': 'str?',
    'optim_target_modules': 'any', 'output_dir': 'str?', 'packing': 'bool', 'packing_strategy': 'str',
    'pad_to_multiple_of': 'any', 'pad_token': 'str?', 'padding_free': 'bool', 'parallelism_config': 'any',
    'per_device_eval_batch_size': 'int', 'per_device_train_batch_size': 'int', 'prediction_loss_only': 'bool',
    'project': 'str', 'push_to_hub': 'bool', 'remove_unused_columns': 'bool', 'report_to': 'any',
    'restore_callback_states_from_checkpoint': 'bool', 'resume_from_checkpoint': 'str?',
    'router_aux_loss_coef': 'float?', 'run_name': 'str?', 'save_on_each_node': 'bool',
    'save_only_model': 'bool', 'save_steps': 'float', 'save_strategy': 'str', 'save_total_limit': 'int?',
    'seed': 'int', 'shuffle_dataset': 'bool', 'skip_memory_metrics': 'bool', 'tf32': 'bool?',
    'torch_compile': 'bool', 'torch_compile_backend': 'str?', 'torch_compile_mode': 'str?',
    'torch_empty_cache_steps': 'int?', 'trackio_bucket_id': 'str?', 'trackio_space_id': 'str?',
    'trackio_static_space_id': 'any', 'train_sampling_strategy': 'str', 'truncation_mode': 'str',
    'trust_remote_code': 'bool', 'use_cache': 'bool', 'use_cpu': 'bool', 'use_liger_kernel': 'bool',
    'warmup_steps': 'float', 'weight_decay': 'float',
}


DPO_CONFIG_FIELDS: frozenset[str] = frozenset(DPO_CONFIG_TYPES)
SFT_CONFIG_FIELDS: frozenset[str] = frozenset(SFT_CONFIG_TYPES)


if __name__ == "__main__":  # regenerate the tables from the installed TRL
    import trl
    from trl import DPOConfig, SFTConfig

    print(f"TRL_VERSION = {trl.__version__!r}")
    for name, cls in (("DPO_CONFIG_TYPES", DPOConfig), ("SFT_CONFIG_TYPES", SFTConfig)):
        print(f"{name}: dict[str, str] = {field_table(cls)!r}")
