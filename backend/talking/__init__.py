"""The live talking head: SillyTavern-extras' ``talkinghead`` and ``classify`` routes, one
character per user, rendered frame by frame from inference/talking's rig."""
