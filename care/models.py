"""The treatments a care manager tracks: medications, brief interventions, referrals, education."""
