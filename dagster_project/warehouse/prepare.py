"""Set-up and tooling entry points for the dbt project, with the environment dbt expects.

python -m dagster_project.warehouse.prepare          # dbt deps-free parse → target/manifest.json
                                                     # (REE_ENGINE=spark: target-spark/)
python -m dagster_project.warehouse.prepare --lint   # sqlfluff (dbt templater) over the models
python -m dagster_project.warehouse.prepare --docs   # dbt docs generate (open target/index.html)
"""

import os
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR, get_settings
from dagster_project.warehouse.dbt import dbt_executable, export_dbt_env


def _run(command: list[str]) -> int:
    return subprocess.call(command, cwd=DBT_PROJECT_DIR, env=os.environ.copy())


def main(argv: list[str]) -> int:
    export_dbt_env()
    dbt = dbt_executable()
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if "--lint" in argv:
        sqlfluff = str(Path(sys.executable).parent / "sqlfluff")
        return _run([sqlfluff, "lint", "models", "tests", "macros"])
    if "--docs" in argv:
        status = _run([dbt, "docs", "generate", *common])
        if status == 0:
            print(f"dbt docs: open {DBT_PROJECT_DIR / 'target' / 'index.html'} (or run `dbt docs serve`)")
        return status
    return _run([dbt, "parse", "--quiet", *common, "--target-path", get_settings().dbt_target_path])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
