import dagster as dg

from catalog_pipeline.providers import PROVIDER_SLUGS

provider_partitions = dg.StaticPartitionsDefinition(PROVIDER_SLUGS)
