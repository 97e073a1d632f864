"""What the Django apps above share and nothing above it: the error hierarchy with its HTTP
mapping, object storage, and strict request inputs. It imports neither ``backend`` nor
``moderation``; both import it."""
